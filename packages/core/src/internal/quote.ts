/**
 * Helpers that put outside values into error messages safely: quoted like Go's
 * `%q` (so an empty or whitespace-only value is visible), and cut short so a
 * hostile 16 KiB input cannot turn one log line into 16 KiB.
 */

/** Longest excerpt of an offending value that a message quotes. */
export const MAX_QUOTED_LENGTH = 128

/**
 * `value` as a JSON string literal, truncated to {@link MAX_QUOTED_LENGTH}
 * characters with a trailing `…` when it is longer.
 */
export function quote(value: string): string {
  const excerpt = value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value
  return JSON.stringify(excerpt)
}

/**
 * The JSON type of `value` as a person would name it: `"null"` and `"array"`
 * are told apart from `"object"`, which `typeof` does not do, and `""` is an
 * `"empty string"`, the usual culprit where a non-empty string is required.
 */
export function describeType(value: unknown): string {
  if (value === '') return 'empty string'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

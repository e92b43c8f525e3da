/**
 * The codes a {@link ConfigError} carries, one per stage of loading a file. Callers branch on
 * them, never on the message:
 *
 * - `ATT_ERR_CONFIG_UNREADABLE`: the file cannot be read (missing, a directory, no permission).
 *   SPIRE answers the same case with "could not find config file …: please use the -config flag".
 * - `ATT_ERR_CONFIG_SYNTAX`: the file is not valid HCL; each issue is located `file:line:column`.
 * - `ATT_ERR_CONFIG_INVALID`: valid HCL, but not a valid configuration; every problem is listed.
 *
 * The agent counts them among its own error codes, so they follow `ATT_ERR_<AREA>_<WHAT>` and stay
 * clear of the wire codes in `@k8s-attest/core`.
 */
export const CONFIG_ERROR_CODES = [
  'ATT_ERR_CONFIG_UNREADABLE',
  'ATT_ERR_CONFIG_SYNTAX',
  'ATT_ERR_CONFIG_INVALID',
] as const

/** One of {@link CONFIG_ERROR_CODES}. */
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number]

/**
 * One problem found in a configuration file.
 *
 * `path` names the key the way it is written in the file, joined with dots, with list indexes and
 * keys that are not identifiers in brackets: `plugins.NodeAttestor.k8s_psat.plugin_data.cluster`,
 * `server.dns_names[1]`, `clusters["my cluster"]`. For syntax errors it is the `file:line:column`
 * the HCL parser reported; for a problem with the file as a whole it is `''`.
 */
export interface ConfigIssue {
  readonly path: string
  /** What is wrong and what was expected, e.g. `must be a duration such as "30s"; got "soon"`. */
  readonly message: string
}

/**
 * Which configuration file a load is about, for messages: created once by each app's loader and
 * passed to every step that can fail.
 */
export interface ConfigSource {
  /** The file as it was named to the loader (e.g. the `-config` flag), not resolved. */
  readonly fileName: string
  /**
   * What the file configures, as messages name it: `'agent'` gives
   * `invalid agent configuration "agent.conf" (2 problems): …`.
   */
  readonly subject: string
}

/** Options of the {@link ConfigError} constructor. */
export interface ConfigErrorOptions {
  /** The lower-level error this one explains (the `fs` error, the parser's error). */
  readonly cause?: unknown
}

/**
 * The structured context every k8s-attest error carries next to its `code` (as core's
 * `AttestError` and the agent's own errors do), so code that logs `details` of any error names
 * the file without parsing the message. The problems themselves are in {@link ConfigError.issues}.
 */
export interface ConfigErrorDetails {
  /** The configuration file, as it was named to the loader. */
  readonly value: string
}

/**
 * A configuration that cannot be used. It lists every problem at once (SPIRE's `validateConfig`
 * stops at the first; an operator fixing a file one error per restart deserves better), so the
 * process can print them all and exit before it does anything else.
 *
 * @example
 * ```ts
 * throw new ConfigError('ATT_ERR_CONFIG_INVALID', { fileName: 'agent.conf', subject: 'agent' }, [
 *   { path: 'agent.trust_domain', message: 'is required; expected a trust domain name such as "example.org"' },
 * ])
 * // message: invalid agent configuration "agent.conf" (1 problem):
 * //   - agent.trust_domain: is required; expected a trust domain name such as "example.org"
 * ```
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  /** The stable code callers branch on. */
  readonly code: ConfigErrorCode
  /** The configuration file as it was named to the loader. */
  readonly fileName: string
  /** What the file configures (`'agent'`, `'server'`). */
  readonly subject: string
  /** Every problem found, in a stable order (sections, then keys). Never empty. */
  readonly issues: readonly ConfigIssue[]
  /** See {@link ConfigErrorDetails}. */
  readonly details: ConfigErrorDetails

  /**
   * @throws {TypeError} when `issues` is empty: an error without a problem to show is a bug in
   *   the loader, not something to print to an operator.
   */
  constructor(
    code: ConfigErrorCode,
    source: ConfigSource,
    issues: readonly ConfigIssue[],
    options: ConfigErrorOptions = {},
  ) {
    if (issues.length === 0) throw new TypeError(`a ConfigError (${code}) needs at least one issue`)
    super(
      formatConfigErrorMessage(source, issues),
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = code
    this.fileName = source.fileName
    this.subject = source.subject
    this.issues = Object.freeze([...issues])
    this.details = { value: source.fileName }
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(CONFIG_ERROR_CODES)

/**
 * Whether `value` is a {@link ConfigError}, judged by its `code` and shape rather than by
 * `instanceof`, so it holds across duplicate copies of this package.
 */
export function isConfigError(value: unknown): value is ConfigError {
  if (!(value instanceof Error)) return false
  const { code, issues } = value as { code?: unknown; issues?: unknown }
  return typeof code === 'string' && KNOWN_CODES.has(code) && Array.isArray(issues)
}

/**
 * The message of a {@link ConfigError}: a header naming the file and the number of problems, then
 * one line per issue, `  - <path>: <message>` (just the message when the path is empty).
 */
function formatConfigErrorMessage(source: ConfigSource, issues: readonly ConfigIssue[]): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`
  const header = `invalid ${source.subject} configuration ${JSON.stringify(source.fileName)} (${count}):`
  const lines = issues.map((issue) =>
    issue.path === '' ? `  - ${issue.message}` : `  - ${issue.path}: ${issue.message}`,
  )
  return [header, ...lines].join('\n')
}

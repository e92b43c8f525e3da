/**
 * Durations in the configuration file are written in Go's `time.ParseDuration` syntax, as in
 * every SPIRE configuration: `"30s"`, `"1m30s"`, `"1.5h"`, `"250ms"`. Units: `ns`, `us` (or
 * `µs`), `ms`, `s`, `m`, `h`. A bare number (other than `"0"`) is rejected, as Go rejects it,
 * because `"30"` could mean seconds or minutes.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

const TERM = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/

/** The outcome of {@link parseDuration}: milliseconds, or why the text is not a duration. */
export type ParsedDuration =
  | { readonly ok: true; readonly milliseconds: number }
  | { readonly ok: false; readonly reason: string }

/** Parses a Go duration string into milliseconds (fractions of a millisecond are kept). */
export function parseDuration(text: string): ParsedDuration {
  if (text === '0') return { ok: true, milliseconds: 0 }
  if (text === '') return { ok: false, reason: 'it is empty' }
  if (text.startsWith('-')) return { ok: false, reason: 'it is negative' }
  let rest = text.startsWith('+') ? text.slice(1) : text
  let milliseconds = 0
  while (rest !== '') {
    const term = TERM.exec(rest)
    if (term === null) {
      return {
        ok: false,
        reason: `${JSON.stringify(rest)} is not a number followed by a unit (ns, us, ms, s, m, h)`,
      }
    }
    milliseconds += Number(term[1]) * (UNIT_MS[term[2] ?? ''] ?? Number.NaN)
    rest = rest.slice(term[0].length)
  }
  if (!Number.isFinite(milliseconds)) return { ok: false, reason: 'it is too large' }
  return { ok: true, milliseconds }
}

/** Formats milliseconds for messages, the way Go prints durations (`1h30m0s`, `1.5s`, `250ms`). */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${milliseconds}ms`
  const hours = Math.floor(milliseconds / 3_600_000)
  const minutes = Math.floor((milliseconds % 3_600_000) / 60_000)
  const seconds = (milliseconds % 60_000) / 1000
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${minutes}m${seconds}s`
  return `${seconds}s`
}

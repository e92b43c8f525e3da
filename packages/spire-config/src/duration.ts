/**
 * Durations in Go's `time.ParseDuration` syntax, because every SPIRE configuration spells them that
 * way (`ca_ttl = "24h"`, `retry_max_interval = "1m30s"`): an optional sign, then one or more decimal
 * numbers each followed by a unit, e.g. `"300ms"`, `"1.5h"`, `"2h45m"`. The special value `"0"`
 * needs no unit; any other bare number is refused, as Go refuses it, because `"30"` could mean
 * seconds or minutes.
 *
 * @see https://pkg.go.dev/time#ParseDuration
 */
const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 MICRO SIGN, as Go accepts it
  μs: 1_000n, // U+03BC GREEK SMALL LETTER MU, as Go accepts it
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
}

const NS_PER_MS = 1_000_000n

const UNIT_NAMES = 'ns, us, ms, s, m, h'

/**
 * Go keeps durations as int64 nanoseconds (about 106,751 days); anything longer is an error there.
 * The negative side reaches one nanosecond further, as int64 does.
 */
const MAX_GO_DURATION_NS = 2n ** 63n - 1n

/** The outcome of {@link parseDuration}: milliseconds, or why the text is not a duration. */
export type ParsedDuration =
  | { readonly ok: true; readonly milliseconds: number }
  | { readonly ok: false; readonly reason: string }

/**
 * Parses a Go duration string into milliseconds, exactly as Go reads it to the nanosecond (a
 * fraction below a nanosecond is truncated, as Go truncates it): fractional for units below a
 * millisecond, and possibly zero or negative, because range checks belong to the caller, which
 * knows what the duration is for. `reason` completes a sentence about the text (`"1 day": unknown unit " day"`).
 *
 * @example
 * ```ts
 * parseDuration('1h30m') // { ok: true, milliseconds: 5_400_000 }
 * parseDuration('1 day') // { ok: false, reason: 'unknown unit " day" (units: ns, us, ms, s, m, h)' }
 * ```
 */
export function parseDuration(text: string): ParsedDuration {
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '0') return { ok: true, milliseconds: 0 }
  if (rest === '') return { ok: false, reason: 'is empty' }

  // Summed in integer nanoseconds, as Go does, so "2.3h" is exactly 8,280,000 ms and the range
  // check is exact; floating point would drift (2.3 × 3,600,000 = 8,279,999.999999999).
  let totalNs = 0n
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)
    const numberText = number?.[0] ?? ''
    const whole = number?.[1] ?? ''
    const fraction = number?.[2] ?? ''
    // Go accepts "5." and ".5", but not a lone ".".
    if (whole === '' && fraction === '')
      return { ok: false, reason: `expected a number at ${JSON.stringify(rest)}` }
    rest = rest.slice(numberText.length)
    const unit = /^[^\d.]+/.exec(rest)?.[0]
    if (unit === undefined) {
      return { ok: false, reason: `missing unit after ${JSON.stringify(numberText)} (units: ${UNIT_NAMES})` }
    }
    const unitNs = NS_PER_UNIT[unit]
    if (unitNs === undefined) {
      return { ok: false, reason: `unknown unit ${JSON.stringify(unit)} (units: ${UNIT_NAMES})` }
    }
    rest = rest.slice(unit.length)
    totalNs += BigInt(whole === '' ? '0' : whole) * unitNs
    // The fraction's share, truncated to whole nanoseconds as Go truncates it.
    if (fraction !== '') totalNs += (BigInt(fraction) * unitNs) / 10n ** BigInt(fraction.length)
  }
  if (totalNs > MAX_GO_DURATION_NS + (sign < 0 ? 1n : 0n)) {
    return { ok: false, reason: 'is out of range (Go allows at most 2562047h)' }
  }
  // Whole milliseconds and the nanosecond rest apart, so both convert to numbers exactly.
  const milliseconds = Number(totalNs / NS_PER_MS) + Number(totalNs % NS_PER_MS) / 1e6
  return { ok: true, milliseconds: milliseconds === 0 ? 0 : sign * milliseconds }
}

/**
 * Formats milliseconds as a duration an operator would write, largest unit first and zero parts
 * left out (`"24h"` where Go prints `"24h0m0s"`, `"1m30s500ms"`). The result always parses back
 * with {@link parseDuration} to the same value, so messages can quote it as a valid setting.
 *
 * @example
 * ```ts
 * formatDuration(5_400_000) // '1h30m'
 * formatDuration(0.5) // '0.5ms'
 * ```
 */
export function formatDuration(milliseconds: number): string {
  if (milliseconds === 0) return '0s'
  const sign = milliseconds < 0 ? '-' : ''
  let rest = Math.abs(milliseconds)
  const parts: string[] = []
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    const count = Math.floor(rest / size)
    if (count > 0) parts.push(`${count}${unit}`)
    rest -= count * size
  }
  // Rounded to the nanosecond, Go's resolution, so float noise (0.30000000000000004) never shows.
  const restMs = Number(rest.toFixed(6))
  if (restMs > 0) parts.push(`${restMs}ms`)
  return parts.length === 0 ? '0s' : sign + parts.join('')
}

/**
 * Go's `time.ParseDuration` grammar, because SPIRE configurations spell durations that way
 * (`ca_ttl = "24h"`, `agent_ttl = "1h30m"`): an optional sign, then one or more decimal
 * numbers each followed by a unit, e.g. `"300ms"`, `"1.5h"`, `"2h45m"`. The special value
 * `"0"` needs no unit.
 */
const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN, as Go accepts it
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU, as Go accepts it
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
}

const UNIT_NAMES = 'ns, us, ms, s, m, h'

/** The outcome of {@link parseDuration}: milliseconds, or why the text is not a duration. */
export type DurationParseResult =
  | { readonly ok: true; readonly milliseconds: number }
  | { readonly ok: false; readonly reason: string }

/**
 * Parses a Go duration string into milliseconds (possibly fractional for sub-millisecond
 * units, possibly negative or zero: range checks belong to the caller, which knows what the
 * duration is for).
 *
 * @example
 * ```ts
 * parseDuration('1h30m') // { ok: true, milliseconds: 5_400_000 }
 * parseDuration('1 day') // { ok: false, reason: 'unknown unit " day" …' }
 * ```
 */
export function parseDuration(text: string): DurationParseResult {
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '0') return { ok: true, milliseconds: 0 }
  if (rest === '') return { ok: false, reason: 'is empty' }

  let total = 0
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)
    const whole = number?.[1] ?? ''
    const fraction = number?.[2] ?? ''
    if (whole === '' && fraction === '') {
      return { ok: false, reason: `expected a number at ${JSON.stringify(rest)}` }
    }
    rest = rest.slice(number?.[0].length ?? 0)
    const unit = /^[^\d.]+/.exec(rest)?.[0]
    if (unit === undefined) {
      return { ok: false, reason: `missing unit after ${JSON.stringify(number?.[0])} (units: ${UNIT_NAMES})` }
    }
    const scale = MS_PER_UNIT[unit]
    if (scale === undefined) {
      return { ok: false, reason: `unknown unit ${JSON.stringify(unit)} (units: ${UNIT_NAMES})` }
    }
    rest = rest.slice(unit.length)
    total += Number(`${whole === '' ? '0' : whole}.${fraction === '' ? '0' : fraction}`) * scale
  }
  if (!Number.isFinite(total)) return { ok: false, reason: 'is out of range' }
  return { ok: true, milliseconds: sign * total }
}

/**
 * Formats milliseconds the way Go prints durations (`"24h0m0s"` becomes `"24h"` here, as
 * operators write it): whole hours, minutes and seconds, largest unit first, with the
 * remainder in milliseconds. Used in messages so values read like the configuration.
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
  if (rest > 0) parts.push(`${Number(rest.toFixed(6))}ms`)
  return sign + parts.join('')
}

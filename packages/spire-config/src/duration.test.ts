import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from './duration.ts'

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['30s', 30_000],
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['1h0m10s', 3_610_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['5.s', 5_000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['-1m', -60_000],
    ['+2m', 120_000],
    // Exact to the nanosecond, as Go's integer arithmetic is: no float drift from the fraction.
    ['2.3h', 8_280_000],
    ['1.1s', 1_100],
    ['0.7m', 42_000],
    // Go truncates below a nanosecond.
    ['0.0000000001s', 0],
    ['1.0000000019s', 1_000.000001],
    // Go's limits: int64 nanoseconds, one more on the negative side.
    ['2562047h47m16.854775807s', 9_223_372_036_854.775],
    ['-2562047h47m16.854775808s', -9_223_372_036_854.775],
  ])('reads %j as Go does', (text, milliseconds) => {
    expect(parseDuration(text)).toEqual({ ok: true, milliseconds })
  })

  it.each([
    ['', 'is empty'],
    ['-', 'is empty'],
    ['30', 'missing unit after "30" (units: ns, us, ms, s, m, h)'],
    ['1h30', 'missing unit after "30" (units: ns, us, ms, s, m, h)'],
    ['5 s', 'unknown unit " s" (units: ns, us, ms, s, m, h)'],
    ['1 day', 'unknown unit " day" (units: ns, us, ms, s, m, h)'],
    ['1d', 'unknown unit "d" (units: ns, us, ms, s, m, h)'],
    ['h', 'expected a number at "h"'],
    ['1h.m', 'expected a number at ".m"'],
    ['2562048h', 'is out of range (Go allows at most 2562047h)'],
    ['2562047h47m16.854775808s', 'is out of range (Go allows at most 2562047h)'],
    ['9223372036854775808ns', 'is out of range (Go allows at most 2562047h)'],
    ['-2562047h47m16.854775809s', 'is out of range (Go allows at most 2562047h)'],
  ])('refuses %j: %s', (text, reason) => {
    expect(parseDuration(text)).toEqual({ ok: false, reason })
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.5, '0.5ms'],
    [250, '250ms'],
    [1_500, '1s500ms'],
    [90_000, '1m30s'],
    [90_500, '1m30s500ms'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [86_400_000, '24h'],
    [-60_000, '-1m'],
    [0.1 + 0.2, '0.3ms'],
  ])('formats %d ms as %j', (milliseconds, text) => {
    expect(formatDuration(milliseconds)).toBe(text)
  })

  it('always gives text that parses back to the same number of milliseconds', () => {
    const tenYearsMs = 10 * 366 * 86_400_000
    fc.assert(
      fc.property(fc.integer({ min: -tenYearsMs, max: tenYearsMs }), (milliseconds) => {
        expect(parseDuration(formatDuration(milliseconds))).toEqual({ ok: true, milliseconds })
      }),
      { numRuns: 2_000 },
    )
  })
})

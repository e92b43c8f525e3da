import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from './duration.ts'

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1h0m10s', 3_610_000],
    ['0', 0],
    ['+2m', 120_000],
    ['500us', 0.5],
  ])('reads %s as %d ms', (text, milliseconds) => {
    expect(parseDuration(text)).toEqual({ ok: true, milliseconds })
  })

  it.each([
    ['', 'it is empty'],
    ['30', '"30" is not a number followed by a unit (ns, us, ms, s, m, h)'],
    ['-5s', 'it is negative'],
    ['5 s', '"5 s" is not a number followed by a unit (ns, us, ms, s, m, h)'],
    ['1d', '"1d" is not a number followed by a unit (ns, us, ms, s, m, h)'],
  ])('refuses %j: %s', (text, reason) => {
    expect(parseDuration(text)).toEqual({ ok: false, reason })
  })
})

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
  ])('formats %d ms as %s', (milliseconds, text) => {
    expect(formatDuration(milliseconds)).toBe(text)
  })
})

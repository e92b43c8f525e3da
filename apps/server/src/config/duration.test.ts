import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from './duration.ts'

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['5.s', 5_000],
    ['300ms', 300],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['-1m', -60_000],
    ['+1m', 60_000],
  ])('reads %j as Go does', (text, milliseconds) => {
    expect(parseDuration(text)).toEqual({ ok: true, milliseconds })
  })

  it.each([
    ['', 'is empty'],
    ['1', 'missing unit after "1" (units: ns, us, ms, s, m, h)'],
    ['1 day', 'unknown unit " day" (units: ns, us, ms, s, m, h)'],
    ['1d', 'unknown unit "d" (units: ns, us, ms, s, m, h)'],
    ['h', 'expected a number at "h"'],
    ['1h.m', 'expected a number at ".m"'],
  ])('refuses %j: %s', (text, reason) => {
    expect(parseDuration(text)).toEqual({ ok: false, reason })
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [86_400_000, '24h'],
    [5_400_000, '1h30m'],
    [90_500, '1m30s500ms'],
    [-60_000, '-1m'],
  ])('formats %d ms as %j', (milliseconds, text) => {
    expect(formatDuration(milliseconds)).toBe(text)
  })
})

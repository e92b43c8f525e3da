import { describe, expect, it } from 'vitest'
import { routeRateLimit } from './rate-limit.ts'

describe('routeRateLimit', () => {
  it.each([
    [1, { max: 1, timeWindow: 1000 }],
    [5, { max: 5, timeWindow: 1000 }],
    [1.5, { max: 3, timeWindow: 2000 }],
    [2.5, { max: 5, timeWindow: 2000 }],
    [2.25, { max: 9, timeWindow: 4000 }],
    [1.1, { max: 11, timeWindow: 10_000 }],
    [1.123, { max: 112, timeWindow: 100_000 }],
    [0.5, { max: 1, timeWindow: 2000 }],
    [0.3, { max: 1, timeWindow: 3334 }],
  ])('turns %f per second into %j', (rate, expected) => {
    expect(routeRateLimit({ enabled: true, attestationsPerSecond: rate })).toEqual(expected)
  })

  it('is off when disabled', () => {
    expect(routeRateLimit({ enabled: false, attestationsPerSecond: 1 })).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.ts'

describe('Backoff', () => {
  it('doubles up to the cap, waiting between half and all of the base', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 10_000, random: () => 0 })
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([500, 1000, 2000, 4000, 5000, 5000])
    const high = new Backoff({ initialMs: 1000, maxMs: 10_000, random: () => 0.999_999 })
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([1000, 2000, 4000, 8000, 10_000])
  })

  it('waits at the cap after a permanent failure, and starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 60_000, random: () => 0.5 })
    expect(backoff.nextAtCap()).toBe(45_000)
    expect(backoff.failures).toBe(1)
    backoff.reset()
    expect(backoff.failures).toBe(0)
    expect(backoff.next()).toBe(750)
  })

  it('does not overflow after many failures', () => {
    const backoff = new Backoff({ initialMs: 1, maxMs: 1000, random: () => 0.5 })
    for (let index = 0; index < 2000; index++) backoff.next()
    expect(backoff.next()).toBe(750)
  })

  it('refuses impossible bounds', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 1 })).toThrow(TypeError)
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(TypeError)
  })
})

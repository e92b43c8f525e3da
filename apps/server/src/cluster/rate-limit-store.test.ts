import { describe, expect, it } from 'vitest'
import { FixedWindowCounters } from './rate-limit-store.ts'

describe('FixedWindowCounters', () => {
  it('counts an address within its window and starts again after it', () => {
    let now = 1_000_000
    const counters = new FixedWindowCounters({ now: () => now })
    expect(counters.increment('10.0.0.1', 2000)).toEqual({ current: 1, ttl: 2000 })
    now += 500
    expect(counters.increment('10.0.0.1', 2000)).toEqual({ current: 2, ttl: 1500 })
    expect(counters.increment('10.0.0.2', 2000)).toEqual({ current: 1, ttl: 2000 })
    now += 1500
    expect(counters.increment('10.0.0.1', 2000)).toEqual({ current: 1, ttl: 2000 })
  })

  it('forgets the least recently seen address beyond its capacity', () => {
    const counters = new FixedWindowCounters({ capacity: 2, now: () => 0 })
    counters.increment('a', 1000)
    counters.increment('b', 1000)
    counters.increment('a', 1000)
    counters.increment('c', 1000)
    expect(counters.increment('a', 1000).current).toBe(3)
    expect(counters.increment('b', 1000).current).toBe(1)
  })
})

import { describe, expect, it } from 'vitest'
import { MAX_YOUNG_DEATHS, RestartPolicy, STABLE_LIFETIME_MS } from './worker-supervisor.ts'

describe('RestartPolicy', () => {
  it('doubles the delay with each young death in a row, and gives up past the limit', () => {
    const policy = new RestartPolicy()
    const delays = Array.from({ length: MAX_YOUNG_DEATHS }, () => policy.onDeath(1000))
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000].map((delayMs) => ({ restart: true, delayMs })))
    expect(policy.onDeath(1000)).toEqual({ restart: false })
  })

  it('gives up on a worker that dies seconds after each start, however slow the loop', () => {
    // 8 s of life and the backoff: never six deaths in one minute, still a crash loop.
    const policy = new RestartPolicy()
    const verdicts = Array.from({ length: MAX_YOUNG_DEATHS + 1 }, () => policy.onDeath(8000))
    expect(verdicts.at(-1)).toEqual({ restart: false })
  })

  it('starts counting again after a worker that had been running', () => {
    const policy = new RestartPolicy()
    for (let index = 0; index < MAX_YOUNG_DEATHS; index++) policy.onDeath(0)
    expect(policy.onDeath(STABLE_LIFETIME_MS)).toEqual({ restart: true, delayMs: 1000 })
    expect(policy.onDeath(0)).toEqual({ restart: true, delayMs: 2000 })
  })
})

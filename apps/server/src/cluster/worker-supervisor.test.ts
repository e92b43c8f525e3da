import { describe, expect, it } from 'vitest'
import { DEATH_WINDOW_MS, MAX_DEATHS_IN_WINDOW, RestartPolicy } from './worker-supervisor.ts'

describe('RestartPolicy', () => {
  it('doubles the delay with each death close to the last, and gives up past the limit', () => {
    const policy = new RestartPolicy()
    const delays = Array.from({ length: MAX_DEATHS_IN_WINDOW }, (_, index) => policy.onDeath(index * 1000))
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000].map((delayMs) => ({ restart: true, delayMs })))
    expect(policy.onDeath(MAX_DEATHS_IN_WINDOW * 1000)).toEqual({ restart: false })
  })

  it('forgets deaths older than the window', () => {
    const policy = new RestartPolicy()
    for (let index = 0; index < MAX_DEATHS_IN_WINDOW; index++) policy.onDeath(index)
    expect(policy.onDeath(DEATH_WINDOW_MS + MAX_DEATHS_IN_WINDOW)).toEqual({ restart: true, delayMs: 1000 })
  })
})

import { describe, expect, it } from 'vitest'
import { refreshDelayMs } from './token-refresh.ts'

describe('refreshDelayMs', () => {
  it("refreshes at 80 % of the token's lifetime, as kubelet does", () => {
    expect(refreshDelayMs(0, 7_200_000)).toBe(5_760_000)
  })

  it('refreshes after 24 hours at the latest', () => {
    expect(refreshDelayMs(0, 365 * 24 * 3_600_000)).toBe(24 * 3_600_000)
  })

  it('refuses a token that expires before it is issued', () => {
    expect(() => refreshDelayMs(10, 10)).toThrow(RangeError)
  })
})

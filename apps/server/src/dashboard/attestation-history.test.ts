import { describe, expect, it } from 'vitest'
import type { AttestationTotal } from '../metrics/metrics.ts'
import { AttestationHistory } from './attestation-history.ts'

/** A counter the test sets, and a clock the test moves. */
function setup() {
  let totals: AttestationTotal[] = []
  let now = Date.parse('2026-03-01T12:00:00Z')
  const history = new AttestationHistory({
    metrics: { attestationTotals: async () => totals },
    bucketMs: 10_000,
    buckets: 3,
    now: () => new Date(now),
  })
  return {
    history,
    set: (next: AttestationTotal[]) => {
      totals = next
    },
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('AttestationHistory', () => {
  it('turns counter readings into buckets of what each interval added, by result and code', async () => {
    const { history, set, advance } = setup()
    set([{ result: 'success', code: '', count: 5 }])
    await history.sample()
    expect(history.buckets()).toEqual([
      { start: new Date('2026-03-01T12:00:00Z'), success: 5, refused: {}, error: 0 },
    ])
    advance(10_000)
    set([
      { result: 'success', code: '', count: 7 },
      { result: 'refused', code: 'ATT_ERR_SA_NOT_ALLOWED', count: 3 },
      { result: 'refused', code: 'ATT_ERR_AGENT_BANNED', count: 1 },
      { result: 'error', code: 'ATT_ERR_INTERNAL', count: 2 },
    ])
    await history.sample()
    expect(history.buckets()[1]).toEqual({
      start: new Date('2026-03-01T12:00:00Z'),
      success: 2,
      refused: { ATT_ERR_SA_NOT_ALLOWED: 3, ATT_ERR_AGENT_BANNED: 1 },
      error: 2,
    })
    advance(10_000)
    await history.sample()
    expect(history.buckets()[2]).toEqual({
      start: new Date('2026-03-01T12:00:10Z'),
      success: 0,
      refused: {},
      error: 0,
    })
  })

  it('keeps only the newest buckets', async () => {
    const { history, set, advance } = setup()
    for (let count = 1; count <= 5; count += 1) {
      set([{ result: 'success', code: '', count: count * 10 }])
      await history.sample()
      advance(10_000)
    }
    expect(history.buckets().map((bucket) => bucket.success)).toEqual([10, 10, 10])
  })

  it('starts from the counter as it is: attestations before the first reading are not charted', async () => {
    const { history, set } = setup()
    set([{ result: 'success', code: '', count: 40 }])
    await history.start()
    history.stop()
    expect(history.buckets()).toEqual([])
  })
})

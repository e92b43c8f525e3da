import { describe, expect, it } from 'vitest'
import { runAlternatingSeries, runSeries } from './load-series.ts'
import { spendCpu } from './test-support/spend-cpu.ts'

/** A run that records each call as `name:index` and answers after `latencyMs`. */
function recordingRun(name: string, calls: string[], latencyMs: number) {
  return async (index: number) => {
    calls.push(`${name}:${index}`)
    await new Promise((resolve) => setTimeout(resolve, 1))
    return latencyMs
  }
}

describe('runSeries', () => {
  it('runs every index once, concurrently, and reads this process as the server', async () => {
    const calls: string[] = []
    const result = await runSeries(10, 4, process.pid, recordingRun('a', calls, 5))
    expect(calls.toSorted()).toEqual(Array.from({ length: 10 }, (_, index) => `a:${index}`).toSorted())
    expect(result.p50).toBe(5)
    expect(result.p99).toBe(5)
    expect(result.perSecond).toBeGreaterThan(0)
    expect(result.cpuMsPerRequest).toBeGreaterThanOrEqual(0)
  })
})

describe('runAlternatingSeries', () => {
  it('alternates the series block by block, each given its own indices in order', async () => {
    const calls: string[] = []
    const result = await runAlternatingSeries(
      6,
      1,
      process.pid,
      { bare: recordingRun('bare', calls, 1), attest: recordingRun('attest', calls, 9) },
      3,
    )
    expect(calls).toEqual([
      'bare:0',
      'bare:1',
      'attest:0',
      'attest:1',
      'attest:2',
      'attest:3',
      'bare:2',
      'bare:3',
      'bare:4',
      'bare:5',
      'attest:4',
      'attest:5',
    ])
    expect(result.bare.p50).toBe(1)
    expect(result.attest.p50).toBe(9)
  })

  it('splits a count that does not divide into blocks without losing a request', async () => {
    const calls: string[] = []
    const result = await runAlternatingSeries(7, 2, process.pid, { only: recordingRun('only', calls, 3) }, 3)
    expect(calls.toSorted()).toEqual(Array.from({ length: 7 }, (_, index) => `only:${index}`).toSorted())
    expect(result.only.perSecond).toBeGreaterThan(0)
  })

  it("sums each series' CPU over its own blocks only", async () => {
    const busy = (ms: number) => async () => {
      spendCpu(ms)
      return ms
    }
    const result = await runAlternatingSeries(
      4,
      1,
      process.pid,
      { idle: recordingRun('idle', [], 0), busy: busy(30) },
      2,
    )
    expect(result.busy.cpuMsPerRequest).toBeGreaterThan(20)
    expect(result.idle.cpuMsPerRequest).toBeLessThan(result.busy.cpuMsPerRequest / 2)
  })
})

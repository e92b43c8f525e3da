import { describe, expect, it } from 'vitest'
import { type CpuReading, cpuMsBetween, readCpu } from './process-stats.ts'
import { spendCpu } from './test-support/spend-cpu.ts'

const reading = (ticks: number, threads: Record<string, number>): CpuReading => ({
  ticks,
  threadNs: new Map(Object.entries(threads)),
})

describe('cpuMsBetween', () => {
  it("sums the threads' nanoseconds, counting a thread started in between in full", () => {
    const before = reading(100, { '1': 5_000_000, '2': 1_000_000 })
    const after = reading(101, { '1': 7_500_000, '2': 1_250_000, '3': 250_000 })
    expect(cpuMsBetween(before, after)).toBeCloseTo(3)
  })

  it('falls back to the ticks when a thread of the first reading is gone', () => {
    const before = reading(100, { '1': 5_000_000, '2': 1_000_000 })
    const after = reading(103, { '1': 7_500_000 })
    expect(cpuMsBetween(before, after)).toBe(30)
  })

  it('falls back to the ticks without schedstat', () => {
    expect(cpuMsBetween(reading(100, {}), reading(102, {}))).toBe(20)
  })
})

describe('readCpu', () => {
  it("reads this process's threads to well under a clock tick", () => {
    const before = readCpu(process.pid)
    expect(before.threadNs.size).toBeGreaterThan(0)
    spendCpu(25)
    const ms = cpuMsBetween(before, readCpu(process.pid))
    expect(ms).toBeGreaterThan(20)
    expect(ms).toBeLessThan(1_000)
  })
})

import { describe, expect, it } from 'vitest'
import { FaultInjector } from './faults.ts'
import type { RequestInfo } from './request-info.ts'

const version: RequestInfo = { resourceRequest: false, path: '/version', verb: 'get' }

describe('FaultInjector', () => {
  it('adds up latencies and reports the first error of the matching faults', () => {
    const faults = new FaultInjector()
    faults.inject({ latencyMs: 100 })
    faults.inject({ latencyMs: 50, error: { status: 429 } })
    faults.inject({ error: { status: 500 } })
    const outcome = faults.decide(version)
    expect(outcome.latencyMs).toBe(150)
    expect(outcome.error).toEqual({ httpStatus: 429, text: 'Too many requests, please try again later.\n' })
    expect(outcome.retryAfterSeconds).toBe(1)
  })

  it('hangs a request when any matching fault says so', () => {
    const faults = new FaultInjector()
    expect(faults.decide(version).hang).toBe(false)
    faults.inject({ verb: 'get', hang: true, times: 1 })
    expect(faults.decide(version)).toMatchObject({ latencyMs: 0, hang: true })
    expect(faults.decide(version).hang).toBe(false)
  })

  it('refuses malformed rules with TypeErrors', () => {
    const faults = new FaultInjector()
    expect(() => faults.inject({})).toThrow(
      'a fault needs "latencyMs", "error", "hang" or "resetMidResponse"',
    )
    expect(() => faults.inject({ resetMidResponse: true, error: { status: 500 } })).toThrow(
      '"resetMidResponse" cuts off a real answer',
    )
    expect(() => faults.inject({ hang: true, error: { status: 500 } })).toThrow(/cannot both/)
    expect(() => faults.inject({ latencyMs: -1 })).toThrow('"latencyMs" must be a non-negative number')
    expect(() => faults.inject({ error: { status: 404 as 500 } })).toThrow(
      '"error.status" must be 429, 500 or 503',
    )
    expect(() => faults.inject({ latencyMs: 1, rate: 0 })).toThrow('"rate" must be in (0, 1]')
    expect(() => faults.inject({ latencyMs: 1, times: 0 })).toThrow('"times" must be a positive integer')
    expect(() => faults.inject({ error: { status: 429, retryAfterSeconds: 0 } })).toThrow(/retryAfterSeconds/)
  })

  it('holds requests of a hang fault until it is removed', async () => {
    const faults = new FaultInjector()
    const hang = faults.inject({ hang: true })
    const outcome = faults.decide(version)
    let released = false
    void outcome.held?.then(() => {
      released = true
    })
    await Promise.resolve()
    expect(released).toBe(false)
    expect(hang.hits).toBe(1)
    hang.remove()
    await outcome.held
    expect(released).toBe(true)
    expect(faults.decide(version).held).toBeUndefined()
  })

  it('releases held requests when the faults are cleared, and marks resets mid-response', async () => {
    const faults = new FaultInjector()
    faults.inject({ hang: true })
    faults.inject({ resetMidResponse: true, times: 1 })
    const outcome = faults.decide(version)
    expect(outcome.resetMidResponse).toBe(true)
    faults.clear()
    await expect(outcome.held).resolves.toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { AgentStoppedError, type SvidInfo, SvidWaiters, svidInfo } from './agent-handle.ts'

function svid(serialNumber: string): SvidInfo {
  return {
    spiffeId: 'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid',
    serialNumber,
    notBefore: new Date('2026-12-07T00:00:00Z'),
    notAfter: new Date('2026-12-07T01:00:00Z'),
    chainPem: ['-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n'],
  }
}

describe('svidInfo', () => {
  it('keeps the public fields only, so a held SVID never hands out its key', () => {
    const held = { ...svid('0a'), privateKey: 'secret', leaf: 'certificate' }
    expect(svidInfo(held)).toStrictEqual(svid('0a'))
  })
})

describe('SvidWaiters', () => {
  it('answers at once with the held SVID when it differs from the one waited past', async () => {
    const waiters = new SvidWaiters()
    await expect(waiters.next(undefined, svid('0a'))).resolves.toMatchObject({ serialNumber: '0a' })
    await expect(waiters.next(svid('09'), svid('0a'))).resolves.toMatchObject({ serialNumber: '0a' })
  })

  it('waits past the held SVID, and a notify of that same SVID does not answer', async () => {
    const waiters = new SvidWaiters()
    const next = waiters.next(svid('0a'), svid('0a'))
    const settled: string[] = []
    void next.then((info) => settled.push(info.serialNumber))
    waiters.notify(svid('0a'))
    await Promise.resolve()
    expect(settled).toEqual([])
    waiters.notify(svid('0b'))
    await expect(next).resolves.toMatchObject({ serialNumber: '0b' })
  })

  it('answers the first SVID to everyone waiting for one', async () => {
    const waiters = new SvidWaiters()
    const first = waiters.next(undefined, undefined)
    const second = waiters.next(undefined, undefined)
    waiters.notify(svid('0a'))
    await expect(Promise.all([first, second])).resolves.toMatchObject([
      { serialNumber: '0a' },
      { serialNumber: '0a' },
    ])
  })

  it('rejects those waiting, and later callers, with the outcome once the loop ends', async () => {
    const waiters = new SvidWaiters()
    const waiting = waiters.next(undefined, undefined)
    waiters.end({ reason: 'stopped' })
    await expect(waiting).rejects.toBeInstanceOf(AgentStoppedError)
    await expect(waiters.next(undefined, undefined)).rejects.toMatchObject({
      name: 'AgentStoppedError',
      outcome: { reason: 'stopped' },
      message: 'the agent stopped (stopped) before holding the SVID waited for',
    })
  })

  it('still answers with a held SVID after the loop ended', async () => {
    const waiters = new SvidWaiters()
    waiters.end({ reason: 'stopped' })
    await expect(waiters.next(undefined, svid('0a'))).resolves.toMatchObject({ serialNumber: '0a' })
  })
})

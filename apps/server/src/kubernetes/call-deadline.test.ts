import { AttestError } from '@k8s-attest/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { withCallDeadline } from './call-deadline.ts'
import { TOKEN_REVIEW_PERMISSION } from './cluster-client.ts'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

/** A fake whose every call waits for an answer that never comes, keeping the signal it got. */
function silentApiServer() {
  const client = new FakeClusterClient()
  const signals: (AbortSignal | undefined)[] = []
  client.hold = (signal) => {
    signals.push(signal)
    return new Promise<never>(() => {})
  }
  return { client, signals }
}

async function rejection(call: Promise<unknown>): Promise<AttestError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  if (!(error instanceof AttestError)) throw new Error(`expected an AttestError, got ${String(error)}`)
  return error
}

describe('withCallDeadline', () => {
  it.each([
    [
      'reviewToken',
      (client: ReturnType<typeof withCallDeadline>) => client.reviewToken('t', ['spire-server']),
      'create tokenreviews',
    ],
    [
      'getPod',
      (client: ReturnType<typeof withCallDeadline>) => client.getPod('spire', 'agent-1'),
      'get pod "spire/agent-1"',
    ],
    [
      'getNode',
      (client: ReturnType<typeof withCallDeadline>) => client.getNode('node-a'),
      'get node "node-a"',
    ],
    [
      'checkPermission',
      (client: ReturnType<typeof withCallDeadline>) => client.checkPermission(TOKEN_REVIEW_PERMISSION),
      'create selfsubjectaccessreviews (create tokenreviews)',
    ],
  ])('ends a %s the API server never answers at the deadline, aborting it', async (_name, call, what) => {
    const { client, signals } = silentApiServer()
    const guarded = withCallDeadline(client, { cluster: 'demo', timeoutMs: 5_000 })
    const pending = rejection(call(guarded))
    await vi.advanceTimersByTimeAsync(4_999)
    expect(signals[0]?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const error = await pending
    expect(error.code).toBe('ATT_ERR_KUBE_API_UNAVAILABLE')
    expect(error.details).toEqual({ check: 'kube_api_timeout', cluster: 'demo', value: '5s' })
    expect(error.message).toBe(
      `Kubernetes API call ${what} in cluster "demo" got no answer within 5s (kube_api_timeout)`,
    )
    // The request itself is told to stop, so it does not hold a pooled connection.
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[0]?.reason).toBe(error)
  })

  it('passes answers and errors through, and leaves no timer behind', async () => {
    const client = new FakeClusterClient()
    client.nodes.set('node-a', { name: 'node-a', uid: 'u', labels: {} })
    const guarded = withCallDeadline(client, { cluster: 'demo', timeoutMs: 5_000 })
    expect(await guarded.getNode('node-a')).toMatchObject({ uid: 'u' })
    const failure = new AttestError('ATT_ERR_KUBE_API_FAILED', 'refused', { check: 'kube_api' })
    client.failures.set('getPod', failure)
    await expect(guarded.getPod('spire', 'x')).rejects.toBe(failure)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("keeps the caller's own signal working", async () => {
    const { client, signals } = silentApiServer()
    const guarded = withCallDeadline(client, { cluster: 'demo', timeoutMs: 5_000 })
    const caller = new AbortController()
    void guarded.reviewToken('t', [], { signal: caller.signal }).catch(() => {})
    caller.abort(new Error('shutting down'))
    expect(signals[0]?.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(5_000)
  })

  it('closes the client it wraps', async () => {
    const client = new FakeClusterClient()
    await withCallDeadline(client, { cluster: 'demo', timeoutMs: 1 }).close()
    expect(client.closed).toBe(true)
  })

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a timeout of %s ms', (timeoutMs) => {
    expect(() => withCallDeadline(new FakeClusterClient(), { cluster: 'demo', timeoutMs })).toThrow(
      new TypeError('"timeoutMs" must be a positive number of milliseconds'),
    )
  })
})

import { AttestError } from '@k8s-attest/core'
import { ApiException } from '@kubernetes/client-node'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { K8sBundleNotifierConfig } from '../config/server-config.ts'
import type { CallOptions } from '../kubernetes/cluster-client.ts'
import { kubeApiError } from '../kubernetes/kube-api-error.ts'
import type { ConfigMapData, ConfigMapPatch } from '../kubernetes/kube-cluster-client.ts'
import { createLogger } from '../logging/logger.ts'
import { type ConfigMapApi, K8sBundleNotifier, type K8sBundleNotifierOptions } from './k8s-bundle-notifier.ts'

const CONFIG: K8sBundleNotifierConfig = {
  namespace: 'spire',
  configMap: 'spire-bundle',
  configMapKey: 'bundle.crt',
  kubeConfigFile: undefined,
}
const BUNDLE_A = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n'
const BUNDLE_B = `${BUNDLE_A}-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n`

/** A ConfigMap held in memory, with kube-apiserver's resourceVersion check on patch. */
class FakeConfigMapApi implements ConfigMapApi {
  configMap: { resourceVersion: number; data: Record<string, string> } | undefined = {
    resourceVersion: 1,
    data: { 'other.txt': 'kept' },
  }
  readonly calls: string[] = []
  /** Thrown by the next calls instead of answering, in order. */
  readonly failures: unknown[] = []
  /** Runs between a read and the patch after it: another writer. */
  beforePatch: (() => void) | undefined
  closed = false

  async getConfigMap(namespace: string, name: string): Promise<ConfigMapData | undefined> {
    this.calls.push(`get ${namespace}/${name}`)
    this.#failIfAsked()
    const current = this.configMap
    return current && { resourceVersion: String(current.resourceVersion), data: { ...current.data } }
  }

  async patchConfigMap(namespace: string, name: string, patch: ConfigMapPatch): Promise<void> {
    this.calls.push(`patch ${namespace}/${name} at ${patch.resourceVersion}`)
    this.#failIfAsked()
    this.beforePatch?.()
    const current = this.configMap
    if (current === undefined) throw apiError(404)
    if (String(current.resourceVersion) !== patch.resourceVersion) throw apiError(409)
    this.configMap = {
      resourceVersion: current.resourceVersion + 1,
      data: { ...current.data, ...patch.data },
    }
  }

  async close(): Promise<void> {
    this.closed = true
  }

  #failIfAsked(): void {
    const failure = this.failures.shift()
    if (failure !== undefined) throw failure
  }
}

/** What KubeClusterClient throws for an answer of `status`. */
function apiError(status: number): AttestError {
  const body = JSON.stringify({ kind: 'Status', code: status, message: `the answer was ${status}` })
  return kubeApiError(
    'in-cluster',
    status === 409 ? 'patch' : 'get',
    'configmaps',
    new ApiException(status, 'x', body, {}),
  )
}

interface LogLine {
  readonly level: string
  readonly msg: string
  readonly [field: string]: unknown
}

function notifierWith(api: FakeConfigMapApi, overrides: Partial<K8sBundleNotifierOptions> = {}) {
  let bundle = BUNDLE_A
  const lines: LogLine[] = []
  const notifier = new K8sBundleNotifier({
    config: CONFIG,
    api,
    currentBundle: async () => bundle,
    logger: createLogger({
      level: 'debug',
      destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    }),
    ...overrides,
  })
  return {
    notifier,
    lines,
    setBundle: (pem: string) => {
      bundle = pem
    },
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('K8sBundleNotifier.publish', () => {
  it('writes the bundle into its key at the version it read, leaving the other keys', async () => {
    const api = new FakeConfigMapApi()
    const { notifier } = notifierWith(api)
    expect(await notifier.publish()).toBe('published')
    expect(api.calls).toEqual(['get spire/spire-bundle', 'patch spire/spire-bundle at 1'])
    expect(api.configMap?.data).toEqual({ 'other.txt': 'kept', 'bundle.crt': BUNDLE_A })
  })

  it('makes no call while the bundle is the one it published', async () => {
    const api = new FakeConfigMapApi()
    const { notifier } = notifierWith(api)
    await notifier.publish()
    api.calls.length = 0
    expect(await notifier.publish()).toBe('unchanged')
    expect(api.calls).toEqual([])
  })

  it('publishes again when the bundle changes (a successor CA prepared, an old one expired)', async () => {
    const api = new FakeConfigMapApi()
    const { notifier, setBundle } = notifierWith(api)
    await notifier.publish()
    setBundle(BUNDLE_B)
    expect(await notifier.publish()).toBe('published')
    expect(api.configMap?.data['bundle.crt']).toBe(BUNDLE_B)
    setBundle(BUNDLE_A)
    expect(await notifier.publish()).toBe('published')
    expect(api.configMap?.data['bundle.crt']).toBe(BUNDLE_A)
  })

  it('does not patch a ConfigMap that already holds the bundle (a restart, or another server wrote it)', async () => {
    const api = new FakeConfigMapApi()
    api.configMap = { resourceVersion: 7, data: { 'bundle.crt': BUNDLE_A } }
    const { notifier } = notifierWith(api)
    expect(await notifier.publish()).toBe('already-published')
    expect(api.calls).toEqual(['get spire/spire-bundle'])
  })

  it('reads the ConfigMap again after resyncMs, and puts back a bundle someone removed', async () => {
    let nowMs = 0
    const api = new FakeConfigMapApi()
    const { notifier } = notifierWith(api, { resyncMs: 600_000, now: () => nowMs })
    await notifier.publish()
    api.configMap = { resourceVersion: 9, data: {} }
    nowMs = 599_999
    expect(await notifier.publish()).toBe('unchanged')
    nowMs = 600_000
    expect(await notifier.publish()).toBe('published')
    expect(api.configMap?.data).toEqual({ 'bundle.crt': BUNDLE_A })
  })

  it('starts the round again when someone else wrote between its read and its patch (409)', async () => {
    const api = new FakeConfigMapApi()
    let writes = 0
    api.beforePatch = () => {
      if (writes++ > 0) return
      const current = api.configMap as { resourceVersion: number; data: Record<string, string> }
      api.configMap = {
        resourceVersion: current.resourceVersion + 1,
        data: { ...current.data, 'x.txt': 'y' },
      }
    }
    const { notifier } = notifierWith(api)
    expect(await notifier.publish()).toBe('published')
    expect(api.calls).toEqual([
      'get spire/spire-bundle',
      'patch spire/spire-bundle at 1',
      'get spire/spire-bundle',
      'patch spire/spire-bundle at 2',
    ])
    expect(api.configMap?.data).toEqual({ 'other.txt': 'kept', 'x.txt': 'y', 'bundle.crt': BUNDLE_A })
  })

  it('gives up after 5 conflicts in a row, the ConfigMap as the other writer left it', async () => {
    const api = new FakeConfigMapApi()
    api.beforePatch = () => {
      const current = api.configMap as { resourceVersion: number; data: Record<string, string> }
      api.configMap = { ...current, resourceVersion: current.resourceVersion + 1 }
    }
    const { notifier } = notifierWith(api)
    const error = await notifier.publish().catch((caught: unknown) => caught)
    expect((error as Error).message).toBe(
      'ConfigMap "spire/spire-bundle" changed under each of 5 attempts to write the trust bundle (HTTP 409 Conflict every time)',
    )
    expect(api.calls.filter((call) => call.startsWith('patch'))).toHaveLength(5)
    expect(api.configMap?.data['bundle.crt']).toBeUndefined()
  })

  it('refuses to create a ConfigMap that does not exist, saying how to create it', async () => {
    const api = new FakeConfigMapApi()
    api.configMap = undefined
    const { notifier } = notifierWith(api)
    await expect(notifier.publish()).rejects.toThrow(
      'ConfigMap "spire/spire-bundle" does not exist; the k8sbundle notifier only updates it: create it (kubectl -n spire create configmap spire-bundle), as deploy/base does',
    )
    expect(api.calls).toEqual(['get spire/spire-bundle'])
  })

  it('passes an API refusal on as it came (RBAC: ATT_ERR_KUBE_API_FAILED)', async () => {
    const api = new FakeConfigMapApi()
    api.failures.push(apiError(403))
    const { notifier } = notifierWith(api)
    const error = await notifier.publish().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AttestError)
    expect((error as AttestError).code).toBe('ATT_ERR_KUBE_API_FAILED')
    expect((error as AttestError).message).toBe(
      'Kubernetes API call get configmaps in cluster "in-cluster" failed with HTTP 403: the answer was 403',
    )
  })
})

describe('K8sBundleNotifier.start', () => {
  it('publishes at start, retries a failure with growing delays, logs the recovery, and checks on its interval', async () => {
    vi.useFakeTimers()
    const api = new FakeConfigMapApi()
    api.failures.push(apiError(503), apiError(403))
    const rounds: string[] = []
    const { notifier, lines, setBundle } = notifierWith(api, {
      firstRetryDelayMs: 1000,
      checkIntervalMs: 60_000,
      onRound: (outcome) => rounds.push(outcome),
    })
    notifier.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(lines.map((line) => [line.level, line.msg, line.retry_in_ms])).toEqual([
      [
        'error',
        'publishing the trust bundle to ConfigMap failed; agents with an empty data_dir may not trust the server until it succeeds',
        1000,
      ],
    ])
    expect(lines[0]).toMatchObject({ config_map: 'spire/spire-bundle', key: 'bundle.crt', failures: 1 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines.at(-1)).toMatchObject({ level: 'error', failures: 2, retry_in_ms: 2000 })
    await vi.advanceTimersByTimeAsync(1999)
    expect(api.configMap?.data['bundle.crt']).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(api.configMap?.data['bundle.crt']).toBe(BUNDLE_A)
    expect(lines.slice(2).map((line) => line.msg)).toEqual([
      'trust bundle notifier recovered',
      'trust bundle published to ConfigMap',
    ])

    setBundle(BUNDLE_B)
    await vi.advanceTimersByTimeAsync(59_999)
    expect(api.configMap?.data['bundle.crt']).toBe(BUNDLE_A)
    await vi.advanceTimersByTimeAsync(1)
    expect(api.configMap?.data['bundle.crt']).toBe(BUNDLE_B)

    expect(rounds).toEqual(['failure', 'failure', 'published', 'published'])

    await notifier.close()
    expect(api.closed).toBe(true)
    setBundle(BUNDLE_A)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(api.configMap?.data['bundle.crt']).toBe(BUNDLE_B)
  })

  it('aborts a call in flight when it closes, instead of waiting out the call timeout', async () => {
    const api = new FakeConfigMapApi()
    let reason: unknown
    let called: () => void = () => {}
    const inFlight = new Promise<void>((resolve) => {
      called = resolve
    })
    // An API server that accepts and never answers: only the call's signal ends the wait.
    api.getConfigMap = (_namespace: string, _name: string, options?: CallOptions) =>
      new Promise((_resolve, reject) => {
        called()
        options?.signal?.addEventListener('abort', () => {
          reason = options.signal?.reason
          reject(reason)
        })
      })
    const rounds: string[] = []
    const { notifier, lines } = notifierWith(api, {
      callTimeoutMs: 3_600_000,
      onRound: (outcome) => rounds.push(outcome),
    })
    notifier.start()
    await inFlight
    await notifier.close()
    expect((reason as Error).message).toBe('the server is closing')
    expect(api.closed).toBe(true)
    // Cut short by the close: neither counted nor logged as a failure.
    expect(rounds).toEqual([])
    expect(lines.filter((line) => line.level === 'error')).toEqual([])
  })

  it('never retries less often than its check interval', async () => {
    vi.useFakeTimers()
    const api = new FakeConfigMapApi()
    api.configMap = undefined
    const { notifier, lines } = notifierWith(api, { firstRetryDelayMs: 1000, checkIntervalMs: 5000 })
    notifier.start()
    await vi.advanceTimersByTimeAsync(0 + 1000 + 2000 + 4000 + 5000)
    expect(lines.map((line) => line.retry_in_ms)).toEqual([1000, 2000, 4000, 5000, 5000])
    await notifier.close()
  })
})

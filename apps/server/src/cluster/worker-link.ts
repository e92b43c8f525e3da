import type { ConfigReloadResponse } from '@k8s-attest/core'
import type { SessionTable, StoredSession } from '../dashboard/session-table.ts'
import type { AttestationTotal, ServerMetrics } from '../metrics/metrics.ts'
import type { ConfigReloader } from '../reload/config-reloader.ts'
import { IpcChannel, type IpcEndpoint } from './ipc-channel.ts'
import { primaryRateLimitStore } from './rate-limit-store.ts'
import type { SharedState } from './shared-state.ts'

/** The IPC methods, by the side that answers them. */
export const PRIMARY_METHODS = {
  sessionAdd: 'sessions.add',
  sessionGet: 'sessions.get',
  sessionDelete: 'sessions.delete',
  mtlsCsrfToken: 'sessions.mtlsCsrfToken',
  attestationTotals: 'metrics.attestationTotals',
  reloadEverywhere: 'reload.everywhere',
  maintainCa: 'ca.maintain',
} as const

export const WORKER_METHODS = {
  /** The worker's registry as `getMetricsAsJSON()`, for the primary's `AggregatorRegistry.aggregate`. */
  metrics: 'worker.metrics',
  /** The worker reloads its configuration (its own `ConfigReloader`). */
  reload: 'worker.reload',
} as const

/** A worker's side of the link to the primary. */
export class WorkerLink {
  readonly #channel: IpcChannel
  /** What this worker shares with the others, through the primary. */
  readonly shared: SharedState

  constructor(endpoint: IpcEndpoint = process as unknown as IpcEndpoint) {
    const channel = new IpcChannel(endpoint)
    this.#channel = channel
    const sessions: SessionTable = {
      add: (key, session) => channel.request<void>(PRIMARY_METHODS.sessionAdd, { key, session }),
      get: async (key, nowMs) =>
        (await channel.request<StoredSession | null>(PRIMARY_METHODS.sessionGet, { key, nowMs })) ??
        undefined,
      delete: (key) => channel.request<void>(PRIMARY_METHODS.sessionDelete, { key }),
      mtlsCsrfToken: (spiffeId) => channel.request<string>(PRIMARY_METHODS.mtlsCsrfToken, { spiffeId }),
    }
    this.shared = {
      sessions,
      attestationTotals: () => channel.request<AttestationTotal[]>(PRIMARY_METHODS.attestationTotals),
      rateLimitStore: primaryRateLimitStore(channel),
      reloadEverywhere: () => channel.request<ConfigReloadResponse>(PRIMARY_METHODS.reloadEverywhere),
      // Creating a CA signs a certificate; the primary may have to wait for the disk too.
      maintainCa: () => channel.request<void>(PRIMARY_METHODS.maintainCa),
    }
  }

  /** Answers the primary's questions about this worker's app. */
  serve(app: { readonly metrics: ServerMetrics; readonly configReloader: ConfigReloader | undefined }): void {
    this.#channel.handle(WORKER_METHODS.metrics, () => app.metrics.registry.getMetricsAsJSON())
    this.#channel.handle(WORKER_METHODS.reload, () => {
      if (app.configReloader === undefined) throw new Error('this worker cannot reload')
      return app.configReloader.reload()
    })
  }

  close(): void {
    this.#channel.close()
  }
}

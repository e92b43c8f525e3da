import type { ConfigReloadResponse } from '@k8s-attest/core'
import type { SessionTable } from '../dashboard/session-table.ts'
import type { AttestationTotal } from '../metrics/metrics.ts'
import type { RateLimitStoreClass } from './rate-limit-store.ts'

/**
 * What the workers of `server.workers` hold in common, kept by the primary and reached over
 * IPC (see `worker-link.ts`). `buildApp` uses these instead of its per-process defaults, so
 * that which worker a connection lands on changes nothing a client can see.
 */
export interface SharedState {
  /** Dashboard sessions and the mTLS CSRF key. */
  readonly sessions: SessionTable
  /** Attestations answered by every worker so far, for the dashboard's chart. */
  readonly attestationTotals: () => Promise<AttestationTotal[]>
  /** @fastify/rate-limit's `store`: one counter per source address for all workers. */
  readonly rateLimitStore: RateLimitStoreClass
  /** `POST /v1/admin/reload`: every worker reloads, not just the one the request reached. */
  readonly reloadEverywhere: () => Promise<ConfigReloadResponse>
  /** The CA's `maintain` option: the primary creates and rotates CAs. */
  readonly maintainCa: () => Promise<void>
}

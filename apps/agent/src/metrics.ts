import { Counter, Gauge, Registry } from 'prom-client'
import { type AttemptResult, type MetricsRecorder, NO_ERROR_CODE } from './metrics-recorder.ts'

/**
 * The agent's Prometheus metrics, in a registry of their own (never prom-client's global one,
 * so several agents in one test process do not collide):
 *
 * - `k8s_attest_agent_attestations_total{result, code}`: attestation attempts;
 * - `k8s_attest_agent_renewals_total{result, code}`: mTLS renewal attempts (k8s_sat);
 * - `k8s_attest_agent_svid_expiry_seconds{spiffe_id}`: seconds until the held SVID expires,
 *   computed at scrape time (negative once expired; no series while no SVID is held).
 *
 * `code` is the error code (the server's or the agent's) or `none`. Loaded only when the
 * metrics listener is configured (see {@link MetricsRecorder}).
 */
export class AgentMetrics implements MetricsRecorder {
  readonly registry = new Registry()
  readonly #attestations: Counter<'result' | 'code'>
  readonly #renewals: Counter<'result' | 'code'>
  #svid: { readonly spiffeId: string; readonly notAfterMs: number } | undefined

  /** @param now The clock, in milliseconds since the epoch. */
  constructor(now: () => number = Date.now) {
    this.#attestations = new Counter({
      name: 'k8s_attest_agent_attestations_total',
      help: 'Attestation attempts, by result and error code',
      labelNames: ['result', 'code'],
      registers: [this.registry],
    })
    this.#renewals = new Counter({
      name: 'k8s_attest_agent_renewals_total',
      help: 'SVID renewal attempts over mTLS (k8s_sat), by result and error code',
      labelNames: ['result', 'code'],
      registers: [this.registry],
    })
    const metrics = this
    new Gauge({
      name: 'k8s_attest_agent_svid_expiry_seconds',
      help: 'Seconds until the SVID the agent holds expires',
      labelNames: ['spiffe_id'],
      registers: [this.registry],
      collect() {
        // Labelled, so that "no SVID" is no series at all rather than a 0 that reads as "expiring".
        this.reset()
        const svid = metrics.#svid
        if (svid !== undefined) this.set({ spiffe_id: svid.spiffeId }, (svid.notAfterMs - now()) / 1000)
      },
    })
  }

  /** Counts one attestation attempt. */
  recordAttestation(result: AttemptResult, code: string = NO_ERROR_CODE): void {
    this.#attestations.inc({ result, code })
  }

  /** Counts one renewal attempt. */
  recordRenewal(result: AttemptResult, code: string = NO_ERROR_CODE): void {
    this.#renewals.inc({ result, code })
  }

  /** Records the SVID now held, or that none is. */
  setSvid(svid: { readonly spiffeId: string; readonly notAfter: Date } | undefined): void {
    this.#svid =
      svid === undefined ? undefined : { spiffeId: svid.spiffeId, notAfterMs: svid.notAfter.getTime() }
  }
}

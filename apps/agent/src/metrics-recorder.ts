/** What an attempt achieved, as the `result` label says it. */
export type AttemptResult = 'success' | 'failure'

/** The `code` label of a success: no error code. */
export const NO_ERROR_CODE = 'none'

/**
 * What the agent reports to its metrics as it works. The Prometheus implementation
 * ({@link AgentMetrics} in metrics.ts) is loaded only when a metrics listener is configured:
 * prom-client holds about 20 MiB of an agent process that runs on every node, paid for nothing
 * when nobody scrapes it.
 */
export interface MetricsRecorder {
  /** Counts one attestation attempt (`code`: the error code, default {@link NO_ERROR_CODE}). */
  recordAttestation(result: AttemptResult, code?: string): void
  /** Counts one renewal attempt. */
  recordRenewal(result: AttemptResult, code?: string): void
  /** Records the SVID now held, or that none is. */
  setSvid(svid: { readonly spiffeId: string; readonly notAfter: Date } | undefined): void
}

/** The recorder of an agent without a metrics listener: it keeps nothing. */
export const NO_METRICS: MetricsRecorder = Object.freeze({
  recordAttestation() {},
  recordRenewal() {},
  setSvid() {},
})

import type { AgentConfig } from './config.ts'
import { loadStoredBundle, loadStoredSvid } from './svid-store.ts'

/** The verdict of {@link checkHealth}, with one line for the probe's output. */
export interface HealthReport {
  readonly healthy: boolean
  /** One line, e.g. `SVID spiffe://… valid until …` or why there is none. */
  readonly message: string
}

/**
 * Whether the agent holds a valid SVID, judged from data_dir alone, as a Kubernetes exec probe
 * sees it (a separate process, with no access to the running agent): the stored bundle parses,
 * and the stored SVID verifies against it at `now` exactly as at startup (chain, SPIFFE ID of
 * the trust domain, key match, validity).
 *
 * @param now Milliseconds since the epoch. Default: the system clock.
 */
export async function checkHealth(config: AgentConfig, now: number = Date.now()): Promise<HealthReport> {
  const bundle = await loadStoredBundle(config.dataDir)
  if (bundle.status === 'missing') {
    return { healthy: false, message: `no trust bundle at ${bundle.path}: the agent has not attested yet` }
  }
  if (bundle.status === 'unusable') {
    return { healthy: false, message: `the stored trust bundle is unusable: ${bundle.error.message}` }
  }
  const svid = await loadStoredSvid(config.dataDir, {
    bundle: bundle.value,
    trustDomain: config.trustDomain,
    now,
  })
  if (svid.status === 'missing') {
    return { healthy: false, message: `no SVID at ${svid.path}: the agent has not attested yet` }
  }
  if (svid.status === 'unusable') {
    return { healthy: false, message: `the stored SVID is not valid: ${svid.error.message}` }
  }
  const { spiffeId, notAfter } = svid.value
  return { healthy: true, message: `SVID ${spiffeId} valid until ${notAfter.toISOString()}` }
}

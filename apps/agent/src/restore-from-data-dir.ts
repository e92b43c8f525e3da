import type { Logger } from 'pino'
import { svidFields } from './attempt-log.ts'
import type { AgentConfig } from './config.ts'
import { LOG_FIELDS as F } from './logger.ts'
import { loadStoredBundle, loadStoredSvid, removeAbandonedWrites } from './svid-store.ts'
import type { HeldSvid } from './svid-verify.ts'
import type { TrustBundle } from './trust-bundle.ts'

/** What a previous run left in data_dir that is still good. */
export interface Restored {
  readonly bundle: TrustBundle
  /** Absent when there is none, or it no longer verifies against the bundle at `now`. */
  readonly svid: HeldSvid | undefined
}

/**
 * Picks up the bundle and SVID a previous run left in data_dir, if they are still good, after
 * clearing the temporary files of a write a kill cut short. Each finding is logged with why:
 * a missing or unusable bundle means bootstrapping trust again, a missing or unusable SVID
 * means attesting.
 *
 * @returns `undefined` when no usable bundle is stored (a stored SVID is then not looked at:
 *   nothing to verify it against).
 */
export async function restoreFromDataDir(
  config: Pick<AgentConfig, 'dataDir' | 'trustDomain' | 'trustBootstrap' | 'nodeAttestor'>,
  now: () => number,
  logger: Logger,
): Promise<Restored | undefined> {
  const { dataDir, trustDomain } = config
  try {
    const removed = await removeAbandonedWrites(dataDir)
    if (removed.length > 0) {
      logger.info(
        { [F.path]: removed },
        'removed the temporary files of a write cut short by a kill; the stored files are whole',
      )
    }
  } catch (error) {
    // Litter, not damage: the agent works with it; say so and go on.
    logger.warn({ err: error }, 'cannot remove abandoned temporary files from data_dir')
  }
  const bundle = await loadStoredBundle(dataDir)
  if (bundle.status === 'unusable') {
    logger.warn(
      { [F.path]: bundle.path, [F.code]: bundle.error.code, [F.check]: bundle.error.details.check },
      `ignoring the stored trust bundle (${bundle.error.message}); bootstrapping trust again`,
    )
  }
  if (bundle.status === 'missing') {
    logger.info(
      { [F.path]: bundle.path, [F.trustBootstrap]: config.trustBootstrap.kind },
      'no trust bundle stored in data_dir yet; bootstrapping trust',
    )
  }
  if (bundle.status !== 'usable') return undefined

  const stored = await loadStoredSvid(dataDir, {
    bundle: bundle.value,
    trustDomain,
    now: now(),
    // As when it came (acceptSvidAnswer): a restart must not throw away what a k8s_sat token bought.
    acceptNotYetValid: config.nodeAttestor.type === 'k8s_sat',
  })
  if (stored.status === 'missing') {
    logger.info({ [F.path]: stored.path }, 'no stored SVID; attesting')
    return { bundle: bundle.value, svid: undefined }
  }
  if (stored.status === 'unusable') {
    logger.warn(
      { [F.path]: stored.path, [F.code]: stored.error.code, [F.check]: stored.error.details.check },
      `cannot reuse the stored SVID (${stored.error.message}); attesting`,
    )
    return { bundle: bundle.value, svid: undefined }
  }
  logger.info(svidFields(stored.value), 'reusing the SVID stored in data_dir')
  return { bundle: bundle.value, svid: stored.value }
}

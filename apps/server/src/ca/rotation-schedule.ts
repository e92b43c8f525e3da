/**
 * When CAs are created, used and dropped, decided from their validity periods alone. The rule
 * is SPIRE's (pkg/server/ca/manager): a successor is *prepared* at half of the current CA's
 * lifetime and published in the trust bundle at once; it *takes over* signing when the current
 * CA has 1/6 of its lifetime left. Between the two, agents refreshing their bundle learn the new
 * CA before anything it signed reaches them, and every certificate the old CA issued (at most
 * `ca_ttl / 6` before its end) stays verifiable because the old certificate remains in the
 * bundle until it expires.
 *
 * Deriving the state from the certificates, instead of keeping "active"/"next" pointers on disk,
 * means there is nothing to keep consistent across a crash: whatever files exist describe the
 * state completely.
 */

/** A CA as the schedule sees it. */
export interface ScheduledCa {
  readonly id: string
  readonly notBefore: Date
  readonly notAfter: Date
  /** Whether its private key is still on disk (superseded CAs keep only their certificate). */
  readonly hasKey: boolean
}

/** What to do now. Apply removals first, then create, then plan again. */
export interface RotationPlan {
  /** The CA that signs now; `undefined` only when {@link create} is `'signing'`. */
  readonly signingId: string | undefined
  /**
   * `'signing'`: no CA can sign (first start, or the server was down past the takeover time and
   * no successor was prepared): create one and sign with it at once. `'successor'`: the signing
   * CA is past half its lifetime and has no successor yet. `'none'`: nothing to create.
   */
  readonly create: 'none' | 'signing' | 'successor'
  /** CAs superseded by the signing CA: they will never sign again, so their keys are deleted. */
  readonly retireKeyIds: readonly string[]
  /** Expired CAs, to delete entirely. */
  readonly removeIds: readonly string[]
  /** CAs that stay in the trust bundle, oldest first. */
  readonly bundleIds: readonly string[]
  /** The next time the plan can change (a threshold or an expiry); `undefined` if a CA must be created now. */
  readonly nextReviewAt: Date | undefined
}

/** When a successor of `ca` is prepared: half of its lifetime. */
export function preparationTime(ca: Pick<ScheduledCa, 'notBefore' | 'notAfter'>): Date {
  return new Date(ca.notAfter.getTime() - lifetimeMs(ca) / 2)
}

/** When `ca` hands signing over to its successor: 1/6 of its lifetime before its end. */
export function takeoverTime(ca: Pick<ScheduledCa, 'notBefore' | 'notAfter'>): Date {
  return new Date(ca.notAfter.getTime() - lifetimeMs(ca) / 6)
}

function lifetimeMs(ca: Pick<ScheduledCa, 'notBefore' | 'notAfter'>): number {
  return ca.notAfter.getTime() - ca.notBefore.getTime()
}

/**
 * Plans the CA set at `now`. The signing CA is the oldest CA that has its key, has started, and
 * has not reached its takeover time; older ones are superseded. When several processes share a
 * `data_dir` and each prepared a successor, they still agree on which one signs.
 */
export function planRotation(cas: readonly ScheduledCa[], now: Date): RotationPlan {
  const at = now.getTime()
  const removeIds = cas.filter((ca) => ca.notAfter.getTime() <= at).map((ca) => ca.id)
  const live = cas
    .filter((ca) => ca.notAfter.getTime() > at)
    .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime() || a.id.localeCompare(b.id))
  const signing = live.find(
    (ca) => ca.hasKey && ca.notBefore.getTime() <= at && at < takeoverTime(ca).getTime(),
  )
  const bundleIds = live.map((ca) => ca.id)
  if (signing === undefined) {
    return {
      signingId: undefined,
      create: 'signing',
      retireKeyIds: [],
      removeIds,
      bundleIds,
      nextReviewAt: undefined,
    }
  }

  const signingStart = signing.notBefore.getTime()
  const retireKeyIds = live
    .filter((ca) => ca.hasKey && ca.notBefore.getTime() < signingStart)
    .map((ca) => ca.id)
  const hasSuccessor = live.some((ca) => ca.hasKey && ca.notBefore.getTime() > signingStart)
  const prepareAt = preparationTime(signing).getTime()
  const create = !hasSuccessor && at >= prepareAt ? 'successor' : 'none'

  const upcoming = [takeoverTime(signing).getTime(), ...live.map((ca) => ca.notAfter.getTime())]
  if (!hasSuccessor && create === 'none') upcoming.push(prepareAt)
  const nextReviewAt = new Date(Math.min(...upcoming.filter((time) => time > at)))
  return { signingId: signing.id, create, retireKeyIds, removeIds, bundleIds, nextReviewAt }
}

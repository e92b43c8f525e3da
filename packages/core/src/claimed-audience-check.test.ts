import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import { tokenFixture, tokenReviewFixture } from '../test/recorded-fixtures.ts'
import { checkClaimedAudiences } from './claimed-audience-check.ts'
import { decodeServiceAccountTokenUnverified } from './service-account-token.ts'

/** Recorded: a pod-bound token with `aud: ["spire-server"]`. */
const POD_BOUND = decodeServiceAccountTokenUnverified(
  tokenFixture('TokenRequest: bound to pod, aud spire-server, 600s').token,
)
/** Recorded: a legacy Secret token, which carries no `aud`. */
const LEGACY = decodeServiceAccountTokenUnverified(
  tokenFixture('TokenReview: hand-made legacy token BEFORE secret holds it').token,
)

describe('checkClaimedAudiences', () => {
  it('refuses, as ATT_ERR_AUDIENCE_MISMATCH, the token kube-apiserver refused as "invalid bearer token"', () => {
    // What kube-apiserver v1.32 answered for this very token and these audiences: a refusal
    // whose only hint of the audience is in the prose of status.error.
    const recorded = tokenReviewFixture('TokenReview: wrong audience [other-audience]')
    expect(recorded.status).toEqual({
      user: {},
      error:
        '[invalid bearer token, token audiences ["spire-server"] is invalid for the target audiences ["other-audience"]]',
    })
    const error = catchAttestError(() =>
      checkClaimedAudiences(POD_BOUND, recorded.requestedAudiences, 'demo'),
    )
    expect(error.code).toBe('ATT_ERR_AUDIENCE_MISMATCH')
    expect(error.details).toEqual({
      check: 'token_audiences',
      cluster: 'demo',
      value: 'spire-server',
      expected: 'other-audience',
    })
    expect(error.message).toBe(
      'the token is for audiences ["spire-server"] (its "aud" claim), none of the audiences ["other-audience"] of cluster "demo"; ' +
        'request the projected token with one of them (serviceAccountToken.audience)',
    )
  })

  it('passes when one of several requested audiences is claimed (the review decides the rest)', () => {
    const recorded = tokenReviewFixture('TokenReview: two audiences [other-audience, spire-server]')
    expect(() => checkClaimedAudiences(POD_BOUND, recorded.requestedAudiences, 'demo')).not.toThrow()
  })

  it('decides nothing when no audiences are requested (the API server audiences, unknown here)', () => {
    expect(() => checkClaimedAudiences(POD_BOUND, [], 'demo')).not.toThrow()
  })

  it('decides nothing for a token without "aud" (a legacy token counts for the API server audiences)', () => {
    expect(LEGACY.audiences).toEqual([])
    expect(() => checkClaimedAudiences(LEGACY, ['spire-server'], 'demo')).not.toThrow()
  })
})

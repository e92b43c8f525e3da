import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import { tokenFixture, tokenReviewFixture } from '../test/recorded-fixtures.ts'
import { checkServiceAccountAllowed, checkServiceAccountUid } from './service-account-check.ts'
import { decodeServiceAccountTokenUnverified } from './service-account-token.ts'
import { interpretTokenReview } from './token-review.ts'

describe('checkServiceAccountAllowed', () => {
  it.each([
    ['an array', ['spire:spire-agent', 'kube-system:other']],
    ['a set', new Set(['spire:spire-agent'])],
  ])('passes a listed service account (allow-list as %s)', (_name, allowList) => {
    expect(() => checkServiceAccountAllowed(allowList, 'spire', 'spire-agent', 'demo')).not.toThrow()
  })

  it.each([
    ['another name', 'spire', 'default'],
    ['another namespace', 'default', 'spire-agent'],
    ['a case variant', 'Spire', 'spire-agent'],
  ])('refuses %s', (_name, namespace, serviceAccount) => {
    const error = catchAttestError(() =>
      checkServiceAccountAllowed(['spire:spire-agent'], namespace, serviceAccount, 'c1'),
    )
    expect(error.code).toBe('ATT_ERR_SA_NOT_ALLOWED')
    expect(error.details).toEqual({
      check: 'service_account_allow_list',
      cluster: 'c1',
      value: `${namespace}:${serviceAccount}`,
    })
    expect(error.message).toBe(
      `service account "${namespace}:${serviceAccount}" is not allowed for cluster "c1"`,
    )
  })

  it('refuses everything with an empty allow-list', () => {
    expect(catchAttestError(() => checkServiceAccountAllowed([], 'spire', 'spire-agent', 'demo')).code).toBe(
      'ATT_ERR_SA_NOT_ALLOWED',
    )
  })
})

describe('checkServiceAccountUid', () => {
  // The same token, as decoded and as reviewed by kube-apiserver v1.32.13.
  const token = decodeServiceAccountTokenUnverified(
    tokenFixture('TokenRequest: bound to pod, aud spire-server, 600s').token,
  )
  const reviewed = interpretTokenReview(
    tokenReviewFixture('TokenReview: success (audiences [spire-server])').status,
    {
      audiences: ['spire-server'],
      requirePod: true,
    },
  )

  it('passes a recorded token and its recorded review', () => {
    expect(() => checkServiceAccountUid(reviewed, token, 'demo')).not.toThrow()
  })

  it('passes when the token claims no UID', () => {
    const withoutUid = { serviceAccount: { namespace: 'spire', name: 'spire-agent' } }
    expect(() => checkServiceAccountUid(reviewed, withoutUid, 'demo')).not.toThrow()
  })

  it('refuses a token claiming another UID than the review confirmed', () => {
    // What kube-apiserver recorded after the service account was deleted and recreated.
    const recreated = { ...reviewed, uid: '3e392fbb-ab81-4554-b2b8-6b7474734aa6' }
    const error = catchAttestError(() => checkServiceAccountUid(recreated, token, 'demo'))
    expect(error.code).toBe('ATT_ERR_SA_UID_MISMATCH')
    expect(error.details).toEqual({
      check: 'service_account_uid',
      cluster: 'demo',
      value: 'b1cc04a4-4636-43af-a329-e6ce3041447f',
      expected: '3e392fbb-ab81-4554-b2b8-6b7474734aa6',
    })
    expect(error.message).toBe(
      'service account "spire:spire-agent" in cluster "demo" has UID "3e392fbb-ab81-4554-b2b8-6b7474734aa6" according to the TokenReview, but the token claims UID "b1cc04a4-4636-43af-a329-e6ce3041447f"',
    )
  })
})

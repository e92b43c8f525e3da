import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import { TOKEN_REVIEW_FIXTURES, tokenReviewFixture } from '../test/recorded-fixtures.ts'
import { interpretTokenReview, type TokenReviewStatusInput } from './token-review.ts'

const POD_BOUND = tokenReviewFixture('TokenReview: success (audiences [spire-server])')
const TWO_AUDIENCES = tokenReviewFixture('TokenReview: two audiences [other-audience, spire-server]')
const NODE_BOUND = tokenReviewFixture('TokenReview: node-bound token success')
const UNBOUND = tokenReviewFixture('TokenReview: unbound token success')
const LEGACY = tokenReviewFixture('TokenReview: legacy token, no spec.audiences')
const EXPIRED = tokenReviewFixture(
  'TokenReview: expired (real claims re-signed with the SA key, exp = now-1800s)',
)

const PSAT = { audiences: ['spire-server'], requirePod: true, cluster: 'demo' } as const

/** A copy of the recorded pod-bound success, to break one thing in. */
function podBoundStatus(): Record<string, unknown> & { user: Record<string, unknown> } {
  return structuredClone(POD_BOUND.status) as Record<string, unknown> & { user: Record<string, unknown> }
}

function extraOf(status: { user: Record<string, unknown> }): Record<string, unknown> {
  return status.user.extra as Record<string, unknown>
}

/** Interprets `status` with the k8s_psat options, expecting a failure; returns it. */
function refusal(status: unknown, options: Parameters<typeof interpretTokenReview>[1] = PSAT) {
  return catchAttestError(() => interpretTokenReview(status as TokenReviewStatusInput, options))
}

describe('recorded TokenReviews (kube-apiserver v1.32.13)', () => {
  it.each(TOKEN_REVIEW_FIXTURES.map((fixture) => [fixture.label, fixture] as const))(
    '%s',
    (_label, fixture) => {
      const status = fixture.status as TokenReviewStatusInput
      if (status.authenticated === true) {
        const reviewed = interpretTokenReview(status, { audiences: fixture.requestedAudiences })
        expect(`system:serviceaccount:${reviewed.namespace}:${reviewed.name}`).toBe(status.user?.username)
        expect(reviewed.uid).toBe(status.user?.uid)
      } else {
        const error = catchAttestError(() =>
          interpretTokenReview(status, { audiences: fixture.requestedAudiences }),
        )
        expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
        expect(error.details.check).toBe('authenticated')
        expect(error.message).toBe(`the token was not authenticated by the TokenReview API: ${status.error}`)
      }
    },
  )

  it('reads everything a pod-bound token review confirms', () => {
    expect(interpretTokenReview(POD_BOUND.status, PSAT)).toEqual({
      namespace: 'spire',
      name: 'spire-agent',
      uid: 'b1cc04a4-4636-43af-a329-e6ce3041447f',
      audiences: ['spire-server'],
      pod: { name: 'spire-agent-pod', uid: '761196fa-56d8-4823-8d5d-af92b2955257' },
      node: { name: 'node-a', uid: '733588a8-e575-4852-8c05-5e4c7b17313e' },
      credentialId: 'JTI=977e4854-1f4e-4232-af0a-875870ef2d46',
    })
  })

  it('passes when one of several requested audiences came back', () => {
    const reviewed = interpretTokenReview(TWO_AUDIENCES.status, {
      audiences: ['other-audience', 'spire-server'],
      requirePod: true,
    })
    expect(reviewed.audiences).toEqual(['spire-server'])
  })

  it('reads the node of a node-bound token, and no pod', () => {
    const reviewed = interpretTokenReview(NODE_BOUND.status, { audiences: ['spire-server'] })
    expect(reviewed.node).toEqual({ name: 'node-a', uid: '733588a8-e575-4852-8c05-5e4c7b17313e' })
    expect(reviewed).not.toHaveProperty('pod')
  })

  it('accepts a legacy token reviewed against the API server audiences (k8s_sat)', () => {
    expect(interpretTokenReview(LEGACY.status, { audiences: [] })).toEqual({
      namespace: 'spire',
      name: 'spire-agent',
      uid: 'b1cc04a4-4636-43af-a329-e6ce3041447f',
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    })
  })
})

describe('ATT_ERR_TOKEN_NOT_AUTHENTICATED', () => {
  it('surfaces status.error and names the cluster', () => {
    const error = refusal(EXPIRED.status)
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toEqual({ check: 'authenticated', cluster: 'demo' })
    expect(error.message).toBe(
      'the token was not authenticated by the TokenReview API for cluster "demo": [invalid bearer token, service account token has expired]',
    )
  })

  it('says so when the review gives no reason', () => {
    const error = refusal({ authenticated: false, user: {} })
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details.check).toBe('authenticated')
    expect(error.message).toBe(
      'the token was not authenticated by the TokenReview API for cluster "demo" (it gave no reason)',
    )
  })

  it('treats an empty status (no "authenticated" key) as not authenticated', () => {
    expect(refusal({}).code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
  })
})

describe('ATT_ERR_AUDIENCE_MISMATCH', () => {
  it('refuses when none of the requested audiences came back', () => {
    const status = { ...podBoundStatus(), audiences: ['https://kubernetes.default.svc.cluster.local'] }
    const error = refusal(status)
    expect(error.code).toBe('ATT_ERR_AUDIENCE_MISMATCH')
    expect(error.details).toEqual({
      check: 'audiences',
      cluster: 'demo',
      value: 'https://kubernetes.default.svc.cluster.local',
      expected: 'spire-server',
    })
    expect(error.message).toBe(
      'the TokenReview for cluster "demo" confirmed audiences ["https://kubernetes.default.svc.cluster.local"], none of the requested ["spire-server"]',
    )
  })

  it('refuses when the review names no audiences at all although some were requested', () => {
    const { audiences: _audiences, ...status } = podBoundStatus()
    const error = refusal(status)
    expect(error.code).toBe('ATT_ERR_AUDIENCE_MISMATCH')
    expect(error.details.check).toBe('audiences')
    expect(error.message).toContain('confirmed audiences [], none of the requested ["spire-server"]')
  })

  it('does not cross-check when no audiences were requested', () => {
    const { audiences: _audiences, ...status } = podBoundStatus()
    expect(interpretTokenReview(status, { audiences: [] }).audiences).toEqual([])
  })
})

describe('ATT_ERR_USERNAME_INVALID', () => {
  it.each([
    ['a node', 'system:node:node-a', 'expected exactly four ":"-separated parts'],
    ['five parts', 'system:serviceaccount:spire:spire-agent:extra', '(found 5)'],
    ['a user with four parts', 'oidc:user:alice:admin', 'expected it to start with "system:serviceaccount:"'],
    ['an empty namespace', 'system:serviceaccount::spire-agent', 'the namespace part is empty'],
    ['an empty name', 'system:serviceaccount:spire:', 'the service account name part is empty'],
    ['an empty username', '', '(found 1)'],
  ])('refuses %s', (_name, username, reasonPart) => {
    const status = podBoundStatus()
    status.user.username = username
    const error = refusal(status)
    expect(error.code).toBe('ATT_ERR_USERNAME_INVALID')
    expect(error.details).toEqual({
      check: 'username_format',
      cluster: 'demo',
      value: username,
      expected: 'system:serviceaccount:<namespace>:<name>',
    })
    expect(error.message).toContain(
      `the TokenReview for cluster "demo" names user ${JSON.stringify(username)}, which is not a service account: `,
    )
    expect(error.message).toContain(reasonPart)
  })
})

describe('ATT_ERR_TOKEN_INVALID: pod binding (k8s_psat)', () => {
  it('refuses an unbound token when a pod is required', () => {
    const error = refusal(UNBOUND.status)
    expect(error.code).toBe('ATT_ERR_TOKEN_INVALID')
    expect(error.details).toEqual({ check: 'pod_binding', cluster: 'demo', value: 'spire:spire-agent' })
    expect(error.message).toBe(
      `the token of service account "spire:spire-agent" for cluster "demo" is not bound to a pod; k8s_psat needs a projected token of the agent's pod`,
    )
  })

  it('refuses a node-bound token when a pod is required', () => {
    expect(refusal(NODE_BOUND.status).details.check).toBe('pod_binding')
  })

  it('accepts an unbound token when no pod is required (the default)', () => {
    expect(interpretTokenReview(UNBOUND.status, { audiences: ['spire-server'] })).not.toHaveProperty('pod')
  })
})

describe('ATT_ERR_TOKEN_REVIEW_INVALID: the status itself is malformed', () => {
  /** Expects the malformed-status error with `check`, and that the message says what is wrong. */
  function expectInvalid(status: unknown, check: string, problem: string) {
    const error = refusal(status)
    expect(error.code).toBe('ATT_ERR_TOKEN_REVIEW_INVALID')
    expect(error.details).toEqual({ check, cluster: 'demo' })
    expect(error.message).toBe(`the TokenReview status for cluster "demo" is malformed: ${problem}`)
  }

  it.each([
    [null, 'null'],
    [['authenticated'], 'array'],
    ['authenticated', 'string'],
  ])('status_shape: %j', (status, found) => {
    expectInvalid(status, 'status_shape', `expected an object (found ${found})`)
  })

  it('authenticated_type', () => {
    expectInvalid(
      { ...podBoundStatus(), authenticated: 'true' },
      'authenticated_type',
      '"authenticated" must be a boolean (found string)',
    )
  })

  it('error_type', () => {
    expectInvalid(
      { user: {}, error: { reason: 'x' } },
      'error_type',
      '"error" must be a string (found object)',
    )
  })

  it('authenticated_with_error', () => {
    expectInvalid(
      { ...podBoundStatus(), error: 'webhook timed out' },
      'authenticated_with_error',
      '"authenticated" is true but "error" says "webhook timed out"',
    )
  })

  it.each([
    ['spire-server', 'string'],
    [[1], 'array'],
    [null, 'null'],
  ])('audiences_type: %j', (audiences, found) => {
    expectInvalid(
      { ...podBoundStatus(), audiences },
      'audiences_type',
      `"audiences" must be an array of strings (found ${found})`,
    )
  })

  it.each([
    [undefined, 'undefined'],
    ['system:serviceaccount:spire:spire-agent', 'string'],
  ])('user_shape: %j', (user, found) => {
    expectInvalid({ ...podBoundStatus(), user }, 'user_shape', `"user" must be an object (found ${found})`)
  })

  it.each([
    [undefined, 'undefined'],
    [42, 'number'],
  ])('username_type: %j', (username, found) => {
    const status = podBoundStatus()
    status.user.username = username
    expectInvalid(status, 'username_type', `"user.username" must be a string (found ${found})`)
  })

  it.each([
    [undefined, 'undefined'],
    ['', 'empty string'],
    [7, 'number'],
  ])('user_uid: %j', (uid, found) => {
    const status = podBoundStatus()
    status.user.uid = uid
    expectInvalid(status, 'user_uid', `"user.uid" must be a non-empty string (found ${found})`)
  })

  it.each([
    ['an array', []],
    ['a value that is not a list', { 'authentication.kubernetes.io/pod-name': 'spire-agent-pod' }],
    ['a list with a number', { 'authentication.kubernetes.io/pod-name': [1] }],
  ])('extra_shape: %s', (_name, extra) => {
    const status = podBoundStatus()
    status.user.extra = extra
    expectInvalid(status, 'extra_shape', '"user.extra" must be an object whose values are arrays of strings')
  })

  it.each([
    ['pod-name', ['a', 'b'], '["a","b"]'],
    ['pod-uid', [''], '[""]'],
    ['node-name', [], '[]'],
    ['node-uid', ['x', 'y'], '["x","y"]'],
    ['credential-id', ['JTI=1', 'JTI=2'], '["JTI=1","JTI=2"]'],
  ])('extra_values: %s = %j', (key, values, shown) => {
    const status = podBoundStatus()
    extraOf(status)[`authentication.kubernetes.io/${key}`] = values
    expectInvalid(
      status,
      'extra_values',
      `"user.extra["authentication.kubernetes.io/${key}"]" must hold exactly one non-empty value (found ${shown})`,
    )
  })

  it.each([['pod-uid'], ['pod-name']])('pod_extras_incomplete: without %s', (key) => {
    const status = podBoundStatus()
    delete extraOf(status)[`authentication.kubernetes.io/${key}`]
    expectInvalid(status, 'pod_extras_incomplete', 'it names the pod by only one of its name and UID')
  })

  it.each([['node-uid'], ['node-name']])('node_extras_incomplete: without %s', (key) => {
    const status = podBoundStatus()
    delete extraOf(status)[`authentication.kubernetes.io/${key}`]
    expectInvalid(status, 'node_extras_incomplete', 'it names the node by only one of its name and UID')
  })

  it('leaves the cluster out of message and details when none is given', () => {
    const error = refusal(null, { audiences: [] })
    expect(error.details).toEqual({ check: 'status_shape' })
    expect(error.message).toBe('the TokenReview status is malformed: expected an object (found null)')
  })
})

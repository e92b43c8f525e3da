import { AttestError } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { AgentError, ServerProblemError } from './errors.ts'
import { classifyFailure } from './failure.ts'

describe('classifyFailure', () => {
  it.each([
    [503, 'ATT_ERR_KUBE_API_UNAVAILABLE', 'transient'],
    [502, 'ATT_ERR_TOKEN_REVIEW_INVALID', 'transient'],
    [500, 'ATT_ERR_INTERNAL', 'transient'],
    [429, 'ATT_ERR_RATE_LIMITED', 'transient'],
    [403, 'ATT_ERR_SA_NOT_ALLOWED', 'permanent'],
    [403, 'ATT_ERR_AUDIENCE_MISMATCH', 'permanent'],
    [401, 'ATT_ERR_TOKEN_NOT_AUTHENTICATED', 'permanent'],
    [400, 'ATT_ERR_UNKNOWN_CLUSTER', 'permanent'],
    [403, 'ATT_ERR_AGENT_BANNED', 'banned'],
  ] as const)('a server answer %d %s is %s', (status, code, kind) => {
    const error = new ServerProblemError(code, 'refused', { httpStatus: status, retryAfterMs: 5000 })
    expect(classifyFailure(error)).toEqual({
      kind,
      code,
      source: 'server',
      httpStatus: status,
      retryAfterMs: 5000,
    })
  })

  it.each([
    ['ATT_ERR_TOKEN_FILE_MISSING', 'transient'],
    ['ATT_ERR_TOKEN_FILE_EMPTY', 'transient'],
    ['ATT_ERR_SERVER_UNREACHABLE', 'transient'],
    ['ATT_ERR_TRUST_BUNDLE_UNAVAILABLE', 'transient'],
    ['ATT_ERR_DATA_DIR_FAILED', 'transient'],
    ['ATT_ERR_SERVER_UNTRUSTED', 'permanent'],
    ['ATT_ERR_SVID_VERIFICATION_FAILED', 'permanent'],
    ['ATT_ERR_TRUST_BUNDLE_INVALID', 'permanent'],
  ] as const)('a local %s is %s', (code, kind) => {
    expect(classifyFailure(new AgentError(code, 'x'))).toMatchObject({ kind, code, source: 'agent' })
  })

  it('decides an answer without a problem document by its status', () => {
    const gateway = new AgentError('ATT_ERR_SERVER_RESPONSE_INVALID', 'HTML', {
      httpStatus: 502,
      retryAfterMs: 1000,
    })
    expect(classifyFailure(gateway)).toMatchObject({ kind: 'transient', httpStatus: 502, retryAfterMs: 1000 })
    const notFound = new AgentError('ATT_ERR_SERVER_RESPONSE_INVALID', 'HTML', { httpStatus: 404 })
    expect(classifyFailure(notFound)).toMatchObject({ kind: 'permanent' })
    const garbled = new AgentError('ATT_ERR_SERVER_RESPONSE_INVALID', 'not JSON')
    expect(classifyFailure(garbled)).toMatchObject({ kind: 'permanent' })
  })

  it('treats a core error raised locally as permanent, and leaves anything else to the caller', () => {
    expect(classifyFailure(new AttestError('ATT_ERR_SPIFFE_ID_INVALID', 'x'))).toMatchObject({
      kind: 'permanent',
      source: 'agent',
    })
    expect(classifyFailure(new TypeError('bug'))).toBeUndefined()
    expect(classifyFailure('a string')).toBeUndefined()
  })
})

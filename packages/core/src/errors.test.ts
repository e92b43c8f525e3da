import { describe, expect, it } from 'vitest'
import { ATTEST_ERROR_CODES, AttestError, isAttestError, isAttestErrorCode } from './errors.ts'

describe('ATTEST_ERROR_CODES', () => {
  it('are unique, upper snake case and prefixed ATT_ERR_', () => {
    expect(new Set(ATTEST_ERROR_CODES).size).toBe(ATTEST_ERROR_CODES.length)
    for (const code of ATTEST_ERROR_CODES) expect(code).toMatch(/^ATT_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/)
  })

  it('include the codes the style guide and other packages rely on', () => {
    expect(ATTEST_ERROR_CODES).toEqual(
      expect.arrayContaining([
        'ATT_ERR_BAD_REQUEST',
        'ATT_ERR_TOKEN_MALFORMED',
        'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
        'ATT_ERR_SA_NOT_ALLOWED',
        'ATT_ERR_POD_UID_MISMATCH',
        'ATT_ERR_KUBE_API_FAILED',
        'ATT_ERR_NOT_READY',
        'ATT_ERR_INTERNAL',
      ]),
    )
  })
})

describe('AttestError', () => {
  it('carries code, message, details and name', () => {
    const error = new AttestError(
      'ATT_ERR_SA_NOT_ALLOWED',
      'service account "spire:default" is not allowed',
      {
        check: 'service_account_allow_list',
        cluster: 'demo',
        value: 'spire:default',
      },
    )
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('AttestError')
    expect(error.code).toBe('ATT_ERR_SA_NOT_ALLOWED')
    expect(error.message).toBe('service account "spire:default" is not allowed')
    expect(error.details).toEqual({
      check: 'service_account_allow_list',
      cluster: 'demo',
      value: 'spire:default',
    })
    expect(error.stack).toContain('AttestError')
  })

  it('keeps the cause out of details and on the standard `cause` property', () => {
    const cause = new SyntaxError('Unexpected end of JSON input')
    const error = new AttestError('ATT_ERR_TOKEN_MALFORMED', 'malformed', { check: 'payload_json', cause })
    expect(error.cause).toBe(cause)
    expect(error.details).toEqual({ check: 'payload_json' })
  })

  it('carries how long to wait before retrying, for failures that waiting cures', () => {
    const error = new AttestError(
      'ATT_ERR_KUBE_API_UNAVAILABLE',
      'create tokenreviews failed with HTTP 503',
      {
        check: 'kube_api',
        cluster: 'demo',
        retryAfterSeconds: 7,
      },
    )
    expect(error.details).toEqual({ check: 'kube_api', cluster: 'demo', retryAfterSeconds: 7 })
  })

  it('has no cause and empty details when given none', () => {
    const error = new AttestError('ATT_ERR_INTERNAL', 'internal error')
    expect(error).not.toHaveProperty('cause')
    expect(error.details).toEqual({})
  })
})

describe('isAttestError', () => {
  it('recognises an AttestError', () => {
    expect(isAttestError(new AttestError('ATT_ERR_NOT_READY', 'not ready'))).toBe(true)
  })

  it('recognises one from a duplicate copy of the package, by shape', () => {
    const foreign = Object.assign(new Error('not allowed'), { code: 'ATT_ERR_SA_NOT_ALLOWED', details: {} })
    expect(isAttestError(foreign)).toBe(true)
  })

  it.each([
    ['an Error with a Node.js code', Object.assign(new Error('x'), { code: 'ECONNRESET' })],
    ['a plain object with a known code', { code: 'ATT_ERR_INTERNAL', message: 'x' }],
    ['a string', 'ATT_ERR_INTERNAL'],
    ['undefined', undefined],
  ])('rejects %s', (_name, value) => {
    expect(isAttestError(value)).toBe(false)
  })
})

describe('isAttestErrorCode', () => {
  it('accepts every listed code and nothing else', () => {
    for (const code of ATTEST_ERROR_CODES) expect(isAttestErrorCode(code)).toBe(true)
    expect(isAttestErrorCode('ATT_ERR_NOPE')).toBe(false)
    expect(isAttestErrorCode('att_err_internal')).toBe(false)
    expect(isAttestErrorCode(42)).toBe(false)
  })
})

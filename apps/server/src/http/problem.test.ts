import { AttestError } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { CsrError } from '../ca/ca-errors.ts'
import { DatastoreError } from '../datastore/datastore-error.ts'
import { DEFAULT_RETRY_AFTER_SECONDS, toProblemResponse } from './problem.ts'

describe('toProblemResponse', () => {
  it('keeps an AttestError: code, status from the map, check, cluster, value, expected', () => {
    const error = new AttestError('ATT_ERR_POD_UID_MISMATCH', 'pod "spire/a" has UID "x"', {
      check: 'pod_uid',
      cluster: 'demo',
      value: 'x',
      expected: 'y',
    })
    expect(toProblemResponse(error)).toEqual({
      status: 403,
      error,
      problem: {
        type: 'urn:k8s-attest:error:ATT_ERR_POD_UID_MISMATCH',
        title: 'Pod UID mismatch',
        status: 403,
        detail: 'pod "spire/a" has UID "x"',
        code: 'ATT_ERR_POD_UID_MISMATCH',
        check: 'pod_uid',
        cluster: 'demo',
        value: 'x',
        expected: 'y',
      },
    })
  })

  it('keeps 5xx answers generic but says when to retry', () => {
    const error = new AttestError('ATT_ERR_KUBE_API_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.1:6443', {
      check: 'kube_api',
      cluster: 'demo',
      value: 'secret-ish internals',
      retryAfterSeconds: 3,
    })
    const { problem, retryAfterSeconds } = toProblemResponse(error)
    expect(retryAfterSeconds).toBe(3)
    expect(problem).toEqual({
      type: 'urn:k8s-attest:error:ATT_ERR_KUBE_API_UNAVAILABLE',
      title: 'Kubernetes API unavailable',
      status: 503,
      detail: 'the Kubernetes API is unavailable; try again later',
      code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
      check: 'kube_api',
      cluster: 'demo',
      retry_after_seconds: 3,
    })
  })

  it.each([
    ['ATT_ERR_SA_NOT_ALLOWED', 'Service account not allowed'],
    ['ATT_ERR_KUBE_API_FAILED', 'Kubernetes API refused the server'],
    ['ATT_ERR_TOKEN_REPLAYED', 'Token already used'],
  ] as const)('gives %s its written title', (code, title) => {
    expect(toProblemResponse(new AttestError(code, 'x')).problem.title).toBe(title)
  })

  it('gives 502 a default Retry-After', () => {
    const response = toProblemResponse(new AttestError('ATT_ERR_KUBE_API_FAILED', 'HTTP 403'))
    expect(response).toMatchObject({ status: 502, retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS })
  })

  it('maps a CSR refusal to ATT_ERR_CSR_INVALID with its check', () => {
    const { problem } = toProblemResponse(
      new CsrError('public-key', 'RSA 1024 is too weak', 'RSA ≥ 2048 or EC'),
    )
    expect(problem).toMatchObject({
      status: 400,
      code: 'ATT_ERR_CSR_INVALID',
      check: 'csr_public_key',
      expected: 'RSA ≥ 2048 or EC',
    })
  })

  it.each([
    ['ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID', 400, 'ATT_ERR_BAD_REQUEST'],
    ['ATT_ERR_DATASTORE_UNREACHABLE', 503, 'ATT_ERR_NOT_READY'],
    ['ATT_ERR_DATASTORE_TIMEOUT', 503, 'ATT_ERR_NOT_READY'],
    ['ATT_ERR_DATASTORE_CLOSED', 503, 'ATT_ERR_NOT_READY'],
    ['ATT_ERR_DATASTORE_QUERY_FAILED', 500, 'ATT_ERR_INTERNAL'],
  ] as const)('maps datastore %s to %i %s', (code, status, attestCode) => {
    const { problem } = toProblemResponse(new DatastoreError(code, 'postgres at db:5432/x: boom'))
    expect(problem).toMatchObject({ status, code: attestCode })
  })

  it('names the field a schema validation refused', () => {
    const validation = Object.assign(new Error("body/attestation must have required property 'payload'"), {
      validation: [{ instancePath: '/attestation', params: { missingProperty: 'payload' } }],
      validationContext: 'body',
      statusCode: 400,
    })
    expect(toProblemResponse(validation).problem).toMatchObject({
      status: 400,
      code: 'ATT_ERR_BAD_REQUEST',
      check: 'schema',
      value: 'body/attestation/payload',
    })
  })

  it('maps an oversized body to 413', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    })
    expect(toProblemResponse(tooLarge).problem).toMatchObject({
      status: 413,
      code: 'ATT_ERR_PAYLOAD_TOO_LARGE',
    })
  })

  it('turns anything else into a generic 500', () => {
    const { problem, error } = toProblemResponse(new RangeError('the signing CA expired'))
    expect(problem).toMatchObject({ status: 500, code: 'ATT_ERR_INTERNAL', detail: 'internal server error' })
    expect(error.message).toBe('the signing CA expired')
    expect(toProblemResponse('a string').problem.code).toBe('ATT_ERR_INTERNAL')
  })
})

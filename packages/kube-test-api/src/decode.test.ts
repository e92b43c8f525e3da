import { describe, expect, it } from 'vitest'
import { tokenReview } from './api-types.ts'
import { decodeObject, parseJsonBody } from './decode.ts'

const target = { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', schema: tokenReview }

describe('parseJsonBody', () => {
  it('words syntax errors like Go', () => {
    expect(() => parseJsonBody('oops')).toThrow(
      "couldn't get version/kind; json parse error: invalid character 'o' looking for beginning of value",
    )
    expect(() => parseJsonBody('')).toThrow(
      "couldn't get version/kind; json parse error: unexpected end of JSON input",
    )
  })
})

describe('decodeObject', () => {
  it('fills kind, apiVersion and zero values in field order', () => {
    expect(decodeObject({ spec: { token: 't' } }, target)).toEqual({
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { token: 't' },
      status: { user: {} },
    })
  })

  it('refuses a body that is not an object, of another version or kind, or of the wrong shape', () => {
    expect(() => decodeObject([], target)).toThrow(/cannot unmarshal array into Go value of type struct/)
    expect(() => decodeObject({ apiVersion: 'v1' }, target)).toThrow(
      'the API version in the data (v1) does not match the expected API version (authentication.k8s.io/v1)',
    )
    expect(() => decodeObject({ kind: 'Pod' }, target)).toThrow(/must be of type TokenReview/)
    expect(() => decodeObject({ spec: { token: 1 } }, target)).toThrow(
      'TokenReview in version "v1" cannot be handled as a TokenReview: json: cannot unmarshal number into Go struct field TokenReviewSpec.spec.token of type string',
    )
  })
})

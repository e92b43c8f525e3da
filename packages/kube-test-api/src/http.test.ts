import { describe, expect, it } from 'vitest'
import { accepts, requireJsonBody } from './http.ts'

describe('accepts', () => {
  it('reads Accept ranges without weighing q-values', () => {
    expect(accepts(undefined, 'application/jwk-set+json')).toBe(true)
    expect(accepts('application/json', 'application/jwk-set+json')).toBe(false)
    expect(accepts('application/jwk-set+json', 'application/jwk-set+json')).toBe(true)
    expect(accepts('text/html, */*;q=0.1', 'application/json')).toBe(true)
    expect(accepts('application/*', 'application/json')).toBe(true)
  })
})

describe('requireJsonBody', () => {
  it('accepts JSON or no Content-Type and refuses others with 415', () => {
    expect(() => requireJsonBody(undefined)).not.toThrow()
    expect(() => requireJsonBody('application/json; charset=utf-8')).not.toThrow()
    expect(() => requireJsonBody('text/plain')).toThrow(/unknown format/)
  })
})

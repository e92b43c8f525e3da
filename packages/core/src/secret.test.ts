import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { REDACTED, Secret } from './secret.ts'

const TEXT = 's3cr3t.token.text'

describe('Secret', () => {
  const secret = new Secret(TEXT)

  it('gives its value through reveal()', () => {
    expect(secret.reveal()).toBe(TEXT)
  })

  it('prints as [REDACTED] through String() and template literals', () => {
    expect(REDACTED).toBe('[REDACTED]')
    expect(String(secret)).toBe('[REDACTED]')
    expect(`${secret}`).toBe('[REDACTED]')
    expect(`Bearer ${secret}`).toBe('Bearer [REDACTED]')
  })

  it('serialises as [REDACTED] through JSON.stringify, however deep', () => {
    expect(JSON.stringify(secret)).toBe('"[REDACTED]"')
    expect(JSON.stringify({ admin: { token: secret }, list: [secret] })).toBe(
      '{"admin":{"token":"[REDACTED]"},"list":["[REDACTED]"]}',
    )
  })

  it('prints as [REDACTED] through util.inspect, alone and nested', () => {
    expect(inspect(secret)).toBe('[REDACTED]')
    expect(inspect({ token: secret })).toBe('{ token: [REDACTED] }')
    expect(inspect({ a: { b: { c: secret } } }, { depth: Number.POSITIVE_INFINITY })).not.toContain(TEXT)
  })

  it('does not leak through a pino-style log line (a merged object with an error, serialised to JSON)', () => {
    // pino merges the bindings and the log object, turns errors into plain objects and writes the
    // result with JSON semantics, so toJSON is what decides what reaches the log.
    const error = Object.assign(new Error('attestation failed'), { token: secret })
    const line = JSON.stringify({
      level: 30,
      time: 0,
      request: { body: { attestation: { payload: { token: secret } } } },
      err: { type: error.name, message: error.message, stack: error.stack, token: error.token },
      msg: 'attesting',
    })
    expect(line).not.toContain(TEXT)
    expect(JSON.parse(line)).toMatchObject({
      request: { body: { attestation: { payload: { token: '[REDACTED]' } } } },
      err: { token: '[REDACTED]' },
    })
  })

  it('keeps its value out of enumeration, spreading and structuredClone', () => {
    expect(Object.keys(secret)).toEqual([])
    expect(JSON.stringify({ ...secret })).toBe('{}')
    expect(JSON.stringify(Object.entries(structuredClone({ secret })))).not.toContain(TEXT)
  })

  it('refuses a value that is not a string, as a programming error', () => {
    expect(() => new Secret(undefined as unknown as string)).toThrow(
      new TypeError('a Secret holds a string; got undefined'),
    )
    expect(() => new Secret(null as unknown as string)).toThrow(
      new TypeError('a Secret holds a string; got null'),
    )
  })
})

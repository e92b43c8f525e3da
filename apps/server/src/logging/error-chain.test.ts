import { describe, expect, it } from 'vitest'
import { describeErrorChain } from './error-chain.ts'

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code })
}

describe('describeErrorChain', () => {
  it("follows fetch's cause to what happened on the wire", () => {
    const goaway = withCode('HTTP/2: "GOAWAY" frame received with code 0', 'UND_ERR_SOCKET')
    const error = new Error('Kubernetes API call failed', {
      cause: new TypeError('fetch failed', { cause: goaway }),
    })
    expect(describeErrorChain(error)).toBe(
      'Kubernetes API call failed: fetch failed: HTTP/2: "GOAWAY" frame received with code 0 (UND_ERR_SOCKET)',
    )
  })

  it('does not repeat a code or a message already said', () => {
    const refused = withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')
    expect(
      describeErrorChain(new Error('failed: connect ECONNREFUSED 127.0.0.1:1', { cause: refused })),
    ).toBe('failed: connect ECONNREFUSED 127.0.0.1:1')
  })

  it('stops on a cycle and describes non-errors', () => {
    const a = new Error('a')
    const b = new Error('b', { cause: a })
    Object.assign(a, { cause: b })
    expect(describeErrorChain(a)).toBe('a: b')
    expect(describeErrorChain('plain text')).toBe('plain text')
  })
})

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is the configuration syntax under test, not a template literal.
import { describe, expect, it } from 'vitest'
import { expandEnv } from './expand-env.ts'

const env = { HOST: 'spire-server', PORT: '8081', EMPTY: '', A_1: 'x', '1': 'one', UNDEFINED: undefined }

describe('expandEnv (Go os.ExpandEnv semantics)', () => {
  it.each([
    ['server_address = "$HOST"', 'server_address = "spire-server"'],
    ['server_address = "${HOST}"', 'server_address = "spire-server"'],
    ['bind_port = $PORT', 'bind_port = 8081'],
    ['$HOST:$PORT', 'spire-server:8081'],
    ['a${HOST}b', 'aspire-serverb'],
    ['$A_1.suffix', 'x.suffix'],
    // A name runs as far as letters, digits and "_" go: this is $HOSTx, which is unset.
    ['$HOSTx', ''],
    ['[$UNSET]', '[]'],
    ['[${UNSET}]', '[]'],
    ['[$EMPTY]', '[]'],
    ['[$UNDEFINED]', '[]'],
    ['$1 and ${1}', 'one and one'],
    ['$$ and $-', ' and '],
    ['price $ 5', 'price $ 5'],
    ['"$"', '"$"'],
    ['ends with $', 'ends with $'],
    ['$', '$'],
    ['a ${} b', 'a  b'],
    ['unterminated ${HOST', 'unterminated HOST'],
    ['${HOST:-default}', ''],
    ['# a comment about $HOST', '# a comment about spire-server'],
    ['no variables', 'no variables'],
    ['', ''],
  ])('expands %j to %j', (text, expected) => {
    expect(expandEnv(text, env)).toBe(expected)
  })

  it("expands only the environment's own variables, never what a plain object inherits", () => {
    // Go's os.Getenv knows nothing of Object.prototype: these are unset variables there.
    expect(expandEnv('[$constructor][${toString}][$__proto__][$hasOwnProperty]', {})).toBe('[][][][]')
    expect(expandEnv('[$constructor]', { constructor: 'set' })).toBe('[set]')
  })

  it('inserts values as they are, without expanding them again', () => {
    expect(expandEnv('$A', { A: '$B', B: 'no' })).toBe('$B')
  })
})

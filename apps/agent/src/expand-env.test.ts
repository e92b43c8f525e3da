// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is the configuration syntax under test, not a template literal.
import { describe, expect, it } from 'vitest'
import { expandEnv } from './expand-env.ts'

const env = { HOST: 'spire-server', PORT: '8081', EMPTY: '', _UNDER: 'u' }

describe('expandEnv (Go os.ExpandEnv semantics)', () => {
  it.each([
    ['server_address = "$HOST"', 'server_address = "spire-server"'],
    ['server_port = ${PORT}', 'server_port = 8081'],
    ['a${HOST}b', 'aspire-serverb'],
    ['$_UNDER', 'u'],
    ['missing: "$NOPE"', 'missing: ""'],
    ['empty: "${EMPTY}"', 'empty: ""'],
    ['price $ 5', 'price $ 5'],
    ['trailing $', 'trailing $'],
    ['drop ${} here', 'drop  here'],
    ['unterminated ${HOST', 'unterminated HOST'],
    ['special $1 and $$', 'special  and '],
    ['$HOST:$PORT', 'spire-server:8081'],
  ])('expands %j', (text, expected) => {
    expect(expandEnv(text, env)).toBe(expected)
  })

  it('does not treat a ${VAR:-default} as shell syntax', () => {
    expect(expandEnv('${HOST:-x}', env)).toBe('')
  })
})

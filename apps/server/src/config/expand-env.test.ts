// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" and "${expr}" are the configuration syntax under test, not template literals.
import { describe, expect, it } from 'vitest'
import { expandEnv } from './expand-env.ts'

const env = { TD: 'example.org', PORT: '8081', EMPTY: '', A_1: 'x', '1': 'one' }

describe('expandEnv (Go os.ExpandEnv semantics)', () => {
  it.each([
    ['trust_domain = "$TD"', 'trust_domain = "example.org"'],
    ['trust_domain = "${TD}"', 'trust_domain = "example.org"'],
    ['bind_port = $PORT', 'bind_port = 8081'],
    ['$A_1.suffix', 'x.suffix'],
    ['${TD}x', 'example.orgx'],
    ['$TDx', ''],
    ['[$UNSET]', '[]'],
    ['[${UNSET}]', '[]'],
    ['[$EMPTY]', '[]'],
    ['$1 and ${1}', 'one and one'],
    ['$$', ''],
    ['price $ 5', 'price $ 5'],
    ['ends with $', 'ends with $'],
    ['"$"', '"$"'],
    ['a ${} b', 'a  b'],
    ['a ${TD', 'a TD'],
    ['${VAR:-default}', ''],
    ['no variables', 'no variables'],
  ])('expands %j to %j', (text, expected) => {
    expect(expandEnv(text, env)).toBe(expected)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConfigError } from './config-error.ts'
import { HCL_TOKEN_PIECES } from './hcl/test-support/token-soup.ts'
import { parseHclDocument } from './hcl-document.ts'

const SOURCE = { fileName: 'conf/server.conf', subject: 'server' }

/** The error `parseHclDocument` throws for `text`. */
function syntaxErrorOf(text: string): ConfigError {
  try {
    parseHclDocument(text, SOURCE)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return expect.fail('expected a syntax error')
}

describe('parseHclDocument', () => {
  it('returns attributes as values, blocks as arrays of bodies and labeled blocks as maps of them', () => {
    const document = parseHclDocument(
      'server {\n  bind_port = 8081\n}\nplugins {\n  DataStore "sql" {\n    plugin_data {}\n  }\n}\nlist = ["a"]\n',
      SOURCE,
    )
    expect(document).toEqual({
      server: [{ bind_port: 8081 }],
      plugins: [{ DataStore: { sql: [{ plugin_data: [{}] }] } }],
      list: ['a'],
    })
  })

  it('returns expressions it does not evaluate as their source, wrapped like a template', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the parser's rendering of an HCL expression.
    expect(parseHclDocument('port = var.port\n', SOURCE)).toEqual({ port: '${var.port}' })
  })

  it('refuses invalid HCL with every scanner problem located, in file order', () => {
    const error = syntaxErrorOf('a = 1\nb = "\\q"\nc = "x\n')
    expect(error).toMatchObject({
      code: 'ATT_ERR_CONFIG_SYNTAX',
      fileName: 'conf/server.conf',
      subject: 'server',
    })
    expect(error.issues).toEqual([
      {
        path: 'conf/server.conf:2:6',
        message: expect.stringMatching(/^invalid escape sequence \\q; expected one of/),
      },
      { path: 'conf/server.conf:3:7', message: expect.stringMatching(/^a quoted string cannot span lines/) },
    ])
    expect(error.message).toContain('conf/server.conf:2:6')
  })

  it('reports the first grammar problem, saying what it expected and what it found', () => {
    expect(syntaxErrorOf('a = 1\nb = \n').issues).toEqual([
      {
        path: 'conf/server.conf:2:5',
        message: 'expected an expression (a value); found the end of the line',
      },
    ])
    expect(syntaxErrorOf('server {\n  port = 1\n').issues).toEqual([
      {
        path: 'conf/server.conf:1:8',
        message: 'unclosed block: this "{" has no matching "}" before the end of the file',
      },
    ])
  })

  it('points a repeated argument at both places', () => {
    expect(syntaxErrorOf('a = 1\n  a = 2\n').issues).toEqual([
      {
        path: 'conf/server.conf:2:3',
        message: 'argument "a" is set twice (first at 1:1); each argument may be set only once',
      },
    ])
  })

  it('locates problems found after parsing, such as blocks of one type with different labels', () => {
    expect(syntaxErrorOf('b "x" {\n}\nb {\n}\n').issues).toEqual([
      { path: 'conf/server.conf:3:1', message: expect.stringMatching(/^block "b" has 0 label\(s\)/) },
    ])
  })

  it('counts columns in characters, and lines across CRLF line ends', () => {
    expect(syntaxErrorOf('é = "ü"\r\nx = "日本" @\r\n').issues).toEqual([
      { path: 'conf/server.conf:2:10', message: expect.stringMatching(/^invalid character "@"/) },
    ])
  })

  it('refuses nesting deeper than any configuration needs, instead of running out of stack', () => {
    const tooDeep = [
      `a = ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      `a = ${'-'.repeat(100_000)}1\n`,
      'b {\n'.repeat(20_000),
      `a = "${'%{if x}'.repeat(100)}"\n`,
    ]
    for (const text of tooDeep) {
      expect(syntaxErrorOf(text).issues[0]?.message).toMatch(/^nested more than 64 levels deep/)
    }
    expect(parseHclDocument(`a = ${'['.repeat(60)}${']'.repeat(60)}\n`, SOURCE)).toHaveProperty('a')
  })

  it('answers any text with a document or a located ConfigError, never another exception', () => {
    const piece = fc.constantFrom(...HCL_TOKEN_PIECES)
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('')
        try {
          parseHclDocument(text, SOURCE)
        } catch (error) {
          expect(error, text).toBeInstanceOf(ConfigError)
          const issues = (error as ConfigError).issues
          expect(issues.length, text).toBeGreaterThan(0)
          for (const issue of issues) expect(issue.path, text).toMatch(/^conf\/server\.conf:\d+:\d+$/)
        }
      }),
      { numRuns: 2_000 },
    )
  })
})

import { describe, expect, it } from 'vitest'
import type { ConfigError } from './config-error.ts'
import { parseHclDocument, syntaxIssuesFrom } from './hcl-document.ts'

const SOURCE = { fileName: 'conf/server.conf', subject: 'server' }

describe('parseHclDocument', () => {
  it('returns attributes as values, blocks as arrays of bodies and labeled blocks as maps of them', async () => {
    const document = await parseHclDocument(
      'server {\n  bind_port = 8081\n}\nplugins {\n  DataStore "sql" {\n    plugin_data {}\n  }\n}\nlist = ["a"]\n',
      SOURCE,
    )
    expect(document).toEqual({
      server: [{ bind_port: 8081 }],
      plugins: [{ DataStore: { sql: [{ plugin_data: [{}] }] } }],
      list: ['a'],
    })
  })

  it('returns expressions it does not evaluate as their source, wrapped like a template', async () => {
    const document = await parseHclDocument('port = var.port\n', SOURCE)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the parser's rendering of an HCL expression.
    expect(document).toEqual({ port: '${var.port}' })
  })

  it('refuses invalid HCL with the location of each diagnostic', async () => {
    const error: ConfigError = await parseHclDocument('a = 1\nb = \nc = "x\n', SOURCE).then(
      () => expect.fail('expected a syntax error'),
      (caught: ConfigError) => caught,
    )
    expect(error).toMatchObject({
      code: 'ATT_ERR_CONFIG_SYNTAX',
      fileName: 'conf/server.conf',
      subject: 'server',
    })
    expect(error.cause).toBeInstanceOf(Error)
    expect(error.issues.map((issue) => issue.path)).toEqual(['conf/server.conf:3:7', 'conf/server.conf:2:5'])
    expect(error.issues[0]?.message).toMatch(/^Invalid multi-line string; Quoted strings may not be split/)
    expect(error.issues[1]?.message).toMatch(/^Invalid expression; Expected the start of an expression/)
  })
})

describe('syntaxIssuesFrom', () => {
  it('keeps a message of unknown shape whole, located at the file', () => {
    expect(syntaxIssuesFrom('wasm crashed', 'a.conf')).toEqual([{ path: 'a.conf', message: 'wasm crashed' }])
  })

  it('reads multi-line ranges and file names with regular expression characters', () => {
    expect(
      syntaxIssuesFrom('parse config: [c+(1).conf:2,9-3,1: Invalid expression; Expected x.]', 'c+(1).conf'),
    ).toEqual([{ path: 'c+(1).conf:2:9', message: 'Invalid expression; Expected x.' }])
  })
})

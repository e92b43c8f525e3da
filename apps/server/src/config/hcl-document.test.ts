import { describe, expect, it } from 'vitest'
import { ATT_ERR_CONFIG_SYNTAX, ConfigError } from './config-error.ts'
import { parseHclDocument, syntaxIssuesFrom } from './hcl-document.ts'

describe('parseHclDocument', () => {
  it('returns blocks as arrays of bodies and labeled blocks as maps of them', async () => {
    const document = await parseHclDocument(
      'server {\n  bind_port = 8081\n}\nplugins {\n  DataStore "sql" {\n    plugin_data {}\n  }\n}\n',
      'server.conf',
    )
    expect(document).toEqual({
      server: [{ bind_port: 8081 }],
      plugins: [{ DataStore: { sql: [{ plugin_data: [{}] }] } }],
    })
  })

  it('refuses invalid HCL with the location of each diagnostic', async () => {
    const error = await parseHclDocument('a = 1\nb = \nc = "x\n', 'conf/server.conf').catch(
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: ATT_ERR_CONFIG_SYNTAX, fileName: 'conf/server.conf' })
    const { issues } = error as ConfigError
    expect(issues.map((issue) => issue.path)).toEqual(['conf/server.conf:3:7', 'conf/server.conf:2:5'])
    expect(issues[0]?.message).toMatch(/^Invalid multi-line string; Quoted strings may not be split/)
    expect(issues[1]?.message).toMatch(/^Invalid expression; Expected the start of an expression/)
  })
})

describe('syntaxIssuesFrom', () => {
  it('keeps a message of unknown shape whole', () => {
    expect(syntaxIssuesFrom('wasm crashed', 'a.conf')).toEqual([{ path: 'a.conf', message: 'wasm crashed' }])
  })

  it('reads multi-line ranges and file names with regular expression characters', () => {
    expect(
      syntaxIssuesFrom('parse config: [c+(1).conf:2,9-3,1: Invalid expression; Expected x.]', 'c+(1).conf'),
    ).toEqual([{ path: 'c+(1).conf:2:9', message: 'Invalid expression; Expected x.' }])
  })
})

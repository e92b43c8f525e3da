// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is the configuration syntax under test, not a template literal.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConfigError } from './config-error.ts'
import { parseConfig, readConfigFile } from './config-file.ts'
import type { HclBodyReader } from './hcl-body-reader.ts'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spire-config-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  return promise.then(
    () => expect.fail('expected a ConfigError'),
    (caught: ConfigError) => caught,
  )
}

describe('readConfigFile', () => {
  it('returns the text of the file', async () => {
    const fileName = join(dir, 'agent.conf')
    await writeFile(fileName, 'agent {}\n')
    expect(await readConfigFile({ fileName, subject: 'agent' })).toBe('agent {}\n')
  })

  it('names a missing file by its absolute path, the reason and the -config flag', async () => {
    const fileName = join(dir, 'missing.conf')
    const error = await refusal(readConfigFile({ fileName, subject: 'agent' }))
    expect(error).toMatchObject({ code: 'ATT_ERR_CONFIG_UNREADABLE', fileName, subject: 'agent' })
    expect(error.issues).toEqual([
      {
        path: '',
        message: `cannot read the configuration file (no such file) at ${JSON.stringify(fileName)}; pass its path with -config`,
      },
    ])
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT')
  })

  it('refuses a directory', async () => {
    const error = await refusal(readConfigFile({ fileName: dir, subject: 'server' }))
    expect(error.code).toBe('ATT_ERR_CONFIG_UNREADABLE')
    expect(error.issues[0]?.message).toContain('(it is a directory, not a file)')
  })
})

describe('parseConfig', () => {
  const source = { fileName: 'agent.conf', subject: 'agent' }
  const text = 'server_address = "${SERVER}"\n'
  /** The schema of these tests: one required host name. */
  const readAddress = (root: HclBodyReader) => {
    const address = root.string('server_address', 'a host name', { required: true })
    root.rejectUnknownKeys()
    return address
  }

  it('substitutes the environment it is given, like -expandEnv, then reads the document', async () => {
    const config = await parseConfig(
      text,
      source,
      { expandEnv: true, env: { SERVER: 'spire-server' } },
      readAddress,
    )
    expect(config).toBe('spire-server')
  })

  it('leaves the text as written by default, so "${VAR}" is refused as an unevaluated expression', async () => {
    const error = await refusal(parseConfig(text, source, { env: { SERVER: 'spire-server' } }, readAddress))
    expect(error.code).toBe('ATT_ERR_CONFIG_INVALID')
    expect(error.issues).toEqual([
      { path: 'server_address', message: expect.stringContaining('contains the HCL expression "${SERVER}"') },
    ])
  })

  it('lists every problem the schema found in one ConfigError', async () => {
    const error = await refusal(parseConfig('sever_address = "x"\n', source, {}, readAddress))
    expect(error.code).toBe('ATT_ERR_CONFIG_INVALID')
    expect(error.message).toBe(
      [
        'invalid agent configuration "agent.conf" (2 problems):',
        '  - server_address: is required; expected a host name',
        '  - sever_address: is not a known key here; did you mean "server_address"?',
      ].join('\n'),
    )
  })

  it('reports syntax errors located in the expanded text', async () => {
    const error = await refusal(
      parseConfig('a = $VALUE\n', source, { expandEnv: true, env: {} }, readAddress),
    )
    expect(error.code).toBe('ATT_ERR_CONFIG_SYNTAX')
    expect(error.issues.map((issue) => issue.path)).toEqual(['agent.conf:1:5'])
  })

  it('treats a schema that builds nothing without reporting why as a loader bug', async () => {
    await expect(parseConfig('', source, {}, () => undefined)).rejects.toThrow(
      new TypeError('the agent configuration reader returned nothing, yet reported no problem'),
    )
  })
})

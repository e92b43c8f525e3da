import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JsonLog, messageIncludes, parseJsonLines } from './json-log.ts'

describe('parseJsonLines', () => {
  it('keeps complete JSON lines, skipping other output and a line still being written', () => {
    const text = [
      '(node:25128) [FSTDEP023] FastifyDeprecation: disableRequestLogging option is deprecated.',
      '{"level":"info","msg":"agent starting"}',
      '{"level":"info","msg":"SVID obtained","serial_number":"ab"}',
      '{"level":"info","msg":"SVID rot',
    ].join('\n')
    expect(parseJsonLines(text)).toEqual([
      { level: 'info', msg: 'agent starting' },
      { level: 'info', msg: 'SVID obtained', serial_number: 'ab' },
    ])
  })

  it('refuses a complete line that starts like JSON but is not', () => {
    expect(() => parseJsonLines('{"level":"info",\n')).toThrow(SyntaxError)
  })
})

describe('JsonLog', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'json-log-test-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads nothing while the file does not exist', async () => {
    const log = await JsonLog.fromEnd(join(dir, 'missing.log'))
    expect(await log.entries()).toEqual([])
  })

  it('from the end: sees only what a later run appends', async () => {
    const path = join(dir, 'agent.log')
    await appendFile(path, '{"msg":"first run"}\n')
    const secondRun = await JsonLog.fromEnd(path)
    await appendFile(path, '{"msg":"second run"}\n')

    expect(await secondRun.entries()).toEqual([{ msg: 'second run' }])
    expect(await JsonLog.whole(path).entries()).toEqual([{ msg: 'first run' }, { msg: 'second run' }])
    expect(await secondRun.find(messageIncludes('second'))).toEqual({ msg: 'second run' })
    expect(await secondRun.filter(messageIncludes('first'))).toEqual([])
  })

  it('tails the last lines for error messages', async () => {
    const path = join(dir, 'server.log')
    await appendFile(path, 'a\nb\nc\n')
    expect(await JsonLog.whole(path).tail(2)).toBe(`--- last 2 lines of ${path} ---\nb\nc`)
  })
})

import { describe, expect, it } from 'vitest'
import { booleanFlag, type FlagSpec, parseFlags, stringFlag, UsageError, usage } from './flags.ts'

const SPECS: readonly FlagSpec[] = [
  { name: 'config', kind: 'string', description: 'config file' },
  { name: 'expandEnv', kind: 'boolean', description: 'expand env' },
]

describe('parseFlags', () => {
  it("reads Go's forms: -name value, -name=value, --name, bare booleans", () => {
    const flags = parseFlags(['-config', 'a.conf', '--expandEnv', 'rest'], SPECS)
    expect(stringFlag(flags, 'config')).toBe('a.conf')
    expect(booleanFlag(flags, 'expandEnv')).toBe(true)
    expect(flags.rest).toEqual(['rest'])
    const equals = parseFlags(['-config=b.conf', '-expandEnv=false'], SPECS)
    expect(stringFlag(equals, 'config')).toBe('b.conf')
    expect(booleanFlag(equals, 'expandEnv')).toBe(false)
    expect(stringFlag(parseFlags([], SPECS), 'config', 'default.conf')).toBe('default.conf')
  })

  it.each([
    [['-bogus'], 'flag provided but not defined: -bogus'],
    [['-config'], 'flag needs an argument: -config'],
    [['-expandEnv=yes'], 'invalid boolean value "yes" for -expandEnv'],
  ])('refuses %j', (args, message) => {
    expect(() => parseFlags(args, SPECS)).toThrow(UsageError)
    expect(() => parseFlags(args, SPECS)).toThrow(message)
  })

  it('prints usage as Go does', () => {
    expect(usage('run', SPECS)).toBe(
      'Usage of run:\n  -config string\n    \tconfig file\n  -expandEnv\n    \texpand env',
    )
  })
})

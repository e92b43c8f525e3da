import { describe, expect, test } from 'vitest'
import { postgresDialect, StatementParameters, sqliteDialect } from './sql-dialect.ts'

describe('StatementParameters', () => {
  test('numbers markers in order, in each dialect’s syntax, with values encoded for the engine', () => {
    const at = new Date('2026-03-01T12:00:00.000Z')
    const build = (p: StatementParameters) =>
      p.statement(
        `${p.add('a')} ${p.addTimestamp(at)} ${p.addBoolean(true)} ${p.addOptionalTimestamp(undefined)}`,
      )
    expect(build(new StatementParameters(sqliteDialect))).toEqual({
      text: '?1 ?2 ?3 ?4',
      values: ['a', at.getTime(), 1, null],
    })
    expect(build(new StatementParameters(postgresDialect))).toEqual({
      text: '$1 $2 $3 $4',
      values: ['a', at, true, null],
    })
  })
})

describe.each([
  ['sqlite3', sqliteDialect],
  ['postgres', postgresDialect],
])('%s value codecs', (_name, dialect) => {
  test('decode what they encode', () => {
    const at = new Date('2026-03-01T12:00:00.123Z')
    expect(dialect.decodeTimestamp(dialect.encodeTimestamp(at))).toEqual(at)
    expect(dialect.decodeBoolean(dialect.encodeBoolean(true))).toBe(true)
    expect(dialect.decodeBoolean(dialect.encodeBoolean(false))).toBe(false)
  })

  test('refuse values of another shape', () => {
    expect(dialect.decodeTimestamp('2026-03-01')).toBeUndefined()
    expect(dialect.decodeBoolean('true')).toBeUndefined()
    expect(dialect.decodeCount(1.5)).toBeUndefined()
  })
})

test('PostgreSQL counts arrive as strings (bigint) and are read as numbers', () => {
  expect(postgresDialect.decodeCount('42')).toBe(42)
  expect(sqliteDialect.decodeCount(42)).toBe(42)
})

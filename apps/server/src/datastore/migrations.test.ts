import { describe, expect, test } from 'vitest'
import { MIGRATIONS, type Migration, pendingMigrations } from './migrations.ts'
import { postgresDialect, sqliteDialect } from './sql-dialect.ts'

const target = '127.0.0.1:5432/agents'
const applied = (migrations: readonly Migration[]) =>
  migrations.map(({ version, name }) => ({ version, name }))

describe('MIGRATIONS', () => {
  test('are numbered 1, 2, 3, … with distinct names', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1))
    expect(new Set(MIGRATIONS.map((migration) => migration.name)).size).toBe(MIGRATIONS.length)
  })

  test('differ between the engines only in the dialect’s words', () => {
    for (const migration of MIGRATIONS) {
      const neutral = (sql: string) =>
        sql
          .replaceAll('TEXT COLLATE "C"', 'TEXT')
          .replaceAll(/TIMESTAMPTZ|BOOLEAN/g, 'INTEGER')
          .replaceAll(' STRICT', '')
      expect(neutral(migration.sql(postgresDialect))).toBe(neutral(migration.sql(sqliteDialect)))
    }
  })
})

describe('pendingMigrations', () => {
  test('on a new database, every migration in order', () => {
    expect(pendingMigrations([], MIGRATIONS, target)).toEqual(MIGRATIONS)
  })

  test('on an up-to-date database, none', () => {
    expect(pendingMigrations(applied(MIGRATIONS), MIGRATIONS, target)).toEqual([])
  })

  test('on a database one migration behind, the last one', () => {
    expect(pendingMigrations(applied(MIGRATIONS.slice(0, -1)), MIGRATIONS, target)).toEqual(
      MIGRATIONS.slice(-1),
    )
  })

  test('refuses a database with a migration this build does not know', () => {
    const future = { version: MIGRATIONS.length + 1, name: 'add_future_column' }
    expect(() => pendingMigrations([...applied(MIGRATIONS), future], MIGRATIONS, target)).toThrow(
      expect.objectContaining({
        code: 'ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE',
        message:
          `database ${target} has schema migration ${future.version} ("add_future_column"), which this server ` +
          `does not know (it knows 1 to ${MIGRATIONS.length}); it was migrated by a newer server`,
      }),
    )
  })

  test('refuses a database whose recorded migration has another name', () => {
    expect(() => pendingMigrations([{ version: 1, name: 'create_nodes' }], MIGRATIONS, target)).toThrow(
      expect.objectContaining({
        code: 'ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE',
        message: `database ${target} recorded schema migration 1 as "create_nodes", but this server's migration 1 is "create_agents"`,
      }),
    )
  })

  test('rejects a migration list out of order as a bug (TypeError)', () => {
    const [first, second] = MIGRATIONS
    if (first === undefined || second === undefined) throw new Error('expected at least two migrations')
    expect(() => pendingMigrations([], [second, first], target)).toThrow(
      new TypeError(
        `migration "${second.name}" is at position 1 but has version 2; versions must be 1, 2, 3, … in order`,
      ),
    )
  })
})

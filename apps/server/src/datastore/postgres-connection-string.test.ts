import { describe, expect, test } from 'vitest'
import { describePostgresConnectionString } from './postgres-connection-string.ts'

describe('describePostgresConnectionString', () => {
  test.each([
    ['postgres://attest:pw@db.internal:6432/agents?sslmode=verify-full', 'db.internal:6432/agents'],
    ['postgresql://attest@10.0.0.7/agents', '10.0.0.7:5432/agents'],
    ['postgres://attest:pw@[::1]:5433/agents', '[::1]:5433/agents'],
    ['postgres:///agents?host=/var/run/postgresql', '/var/run/postgresql:5432/agents'],
    ['postgres://h/my%20agents', 'h:5432/my agents'],
  ])('describes %s as %s, without credentials', (connectionString, target) => {
    expect(describePostgresConnectionString(connectionString)).toBe(target)
  })

  const secret = 'Sup3r-s3cret'
  test.each([
    [
      'a keyword/value string',
      `host=db user=attest password=${secret} dbname=agents`,
      'is not a postgres:// URL',
    ],
    ['another scheme', `mysql://attest:${secret}@db/agents`, 'is not a postgres:// URL'],
    ['an unparsable URL', `postgres://attest:${secret}@[db/agents`, 'is not a postgres:// URL'],
    ['no host', `postgres:///agents?password=${secret}`, 'names no host'],
    ['no database', `postgres://attest:${secret}@db:5432`, 'names no database'],
    ['a nested path', `postgres://attest:${secret}@db/agents/more`, 'names no database'],
    ['a malformed database name', `postgres://attest:${secret}@db/%E0%A4%A`, 'names no database'],
  ])('refuses %s, naming the check and never the password', (_name, connectionString, problem) => {
    let thrown: unknown
    try {
      describePostgresConnectionString(connectionString)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      code: 'ATT_ERR_DATASTORE_CONFIG_INVALID',
      details: { databaseType: 'postgres', check: 'connection_string' },
    })
    const { message, cause } = thrown as Error
    expect(message).toContain(`connection_string for database_type "postgres" ${problem}`)
    expect(message).not.toContain(secret)
    expect(cause).toBeUndefined()
  })
})

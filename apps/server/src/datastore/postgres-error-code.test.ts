import { expect, test } from 'vitest'
import { postgresErrorCode } from './postgres-error-code.ts'

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code })

test.each([
  ['connection refused', withCode('ECONNREFUSED'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  ['unknown host', withCode('ENOTFOUND'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  ['wrong password (28P01)', withCode('28P01'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  ['no such database (3D000)', withCode('3D000'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  ['connection failure (08006)', withCode('08006'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  ['server shutting down (57P01)', withCode('57P01'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  [
    'pool connect timeout',
    new Error('timeout exceeded when trying to connect'),
    'ATT_ERR_DATASTORE_UNREACHABLE',
  ],
  ['connection lost', new Error('Connection terminated unexpectedly'), 'ATT_ERR_DATASTORE_UNREACHABLE'],
  ['statement timeout (57014)', withCode('57014'), 'ATT_ERR_DATASTORE_TIMEOUT'],
  [
    'too many connections, for the server or the role (53300)',
    withCode('53300'),
    'ATT_ERR_DATASTORE_UNREACHABLE',
  ],
  ['lock not available (55P03)', withCode('55P03'), 'ATT_ERR_DATASTORE_TIMEOUT'],
  ['unique violation (23505)', withCode('23505'), 'ATT_ERR_DATASTORE_QUERY_FAILED'],
  ['syntax error (42601)', withCode('42601'), 'ATT_ERR_DATASTORE_QUERY_FAILED'],
  ['not an error at all', 'boom', 'ATT_ERR_DATASTORE_QUERY_FAILED'],
])('%s is %s', (_name, error, code) => {
  expect(postgresErrorCode(error)).toBe(code)
})

import { join } from 'node:path'
import type { HclBodyReader } from '@k8s-attest/spire-config'
import {
  SQLITE_CONNECTION_STRING_EXPECTED,
  sqliteConnectionStringProblem,
} from '../datastore/sqlite-connection-string.ts'
import { type DataStoreConfig, SERVER_CONFIG_DEFAULTS } from './server-config.ts'

const DATABASE_TYPES = ['sqlite3', 'postgres'] as const

/**
 * Reads `plugins { DataStore "sql" { plugin_data { … } } }`. Like SPIRE, exactly one DataStore
 * is required and `database_type` must be set; unlike SPIRE, the SQLite `connection_string`
 * may be left out and defaults to `<data_dir>/datastore.sqlite3`.
 *
 * @param dataDir the absolute `data_dir`, or `''` when it is missing (already reported).
 */
export function readDataStoreSection(
  plugins: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
  dataDir: string,
): DataStoreConfig {
  const fallback: DataStoreConfig = { databaseType: 'sqlite3', connectionString: '' }
  if (plugins === undefined) return fallback
  const dataStores = plugins.labeledBlocks('DataStore', 'sql')
  if (dataStores.size === 0) {
    // A DataStore key that is present but malformed has been reported by labeledBlocks.
    if (plugins.has('DataStore')) return fallback
    plugins.report(
      'DataStore',
      'is required; expected DataStore "sql" { plugin_data { database_type = "sqlite3" } }',
    )
    return fallback
  }
  let result: DataStoreConfig = fallback
  for (const [name, plugin] of dataStores) {
    if (name !== 'sql') {
      plugin.report(undefined, 'is not a known DataStore plugin; expected DataStore "sql"')
      continue
    }
    const pluginData = plugin.block('plugin_data', { required: true })
    plugin.rejectUnknownKeys({
      plugin_cmd: 'only built-in plugins are supported',
      plugin_data_file: 'use plugin_data',
    })
    if (pluginData !== undefined) result = readSqlPluginData(pluginData, resolvePath, dataDir)
  }
  return result
}

function readSqlPluginData(
  pluginData: HclBodyReader,
  resolvePath: (path: string) => string,
  dataDir: string,
): DataStoreConfig {
  const databaseType = pluginData.string('database_type', 'one of "sqlite3", "postgres"', { required: true })
  // As in SPIRE, "" is the same as leaving the key out.
  const connectionString = pluginData.string(
    'connection_string',
    'a database file path or a postgres:// URL',
    {
      allowEmpty: true,
    },
  )
  pluginData.rejectUnknownKeys()

  if (databaseType === 'postgres') {
    if (connectionString === undefined || connectionString === '') {
      pluginData.report(
        'connection_string',
        'is required for postgres; expected a URL such as "postgres://user@host/db"',
      )
      return { databaseType, connectionString: '' }
    }
    if (!isPostgresUrl(connectionString)) {
      // Do not echo the value: a connection string often carries a password.
      pluginData.report(
        'connection_string',
        'must be a postgres:// or postgresql:// URL for postgres (keyword/value strings are not supported)',
      )
    }
    return { databaseType, connectionString }
  }

  if (databaseType !== undefined && databaseType !== 'sqlite3') {
    pluginData.report(
      'database_type',
      `must be one of ${DATABASE_TYPES.map((type) => `"${type}"`).join(', ')}; got ${JSON.stringify(databaseType)}`,
    )
  }
  if (connectionString !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(connectionString)) {
    pluginData.report(
      'connection_string',
      `must be a file path for sqlite3, not a URL; got ${JSON.stringify(connectionString)}`,
    )
  } else if (connectionString !== undefined && connectionString !== '') {
    // Checked before the path is resolved against data_dir, which would turn ":memory:" or a
    // "file:" URI into an oddly named file instead of an error.
    const problem = sqliteConnectionStringProblem(connectionString)
    if (problem !== undefined) {
      pluginData.report('connection_string', `${problem}; expected ${SQLITE_CONNECTION_STRING_EXPECTED}`)
    }
  }
  const path =
    connectionString === undefined || connectionString === ''
      ? dataDir === ''
        ? ''
        : join(dataDir, SERVER_CONFIG_DEFAULTS.sqliteFileName)
      : resolvePath(connectionString)
  return { databaseType: 'sqlite3', connectionString: path }
}

function isPostgresUrl(text: string): boolean {
  if (!URL.canParse(text)) return false
  const { protocol } = new URL(text)
  return protocol === 'postgres:' || protocol === 'postgresql:'
}

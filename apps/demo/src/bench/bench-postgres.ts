import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { BENCH_POSTGRES_URL_VARIABLE } from './bench-options.ts'

const POSTGRES_SCRIPT = fileURLToPath(new URL('../../../../scripts/postgres.sh', import.meta.url))
const execFileAsync = promisify(execFile)

/** A new, empty PostgreSQL database for one bench server; `drop()` removes it (and a server started for it). */
export interface BenchDatabase {
  /** Its URL, with credentials: never printed. */
  readonly url: string
  /** Where it is, without credentials, for the figures' heading. */
  readonly description: string
  drop(): Promise<void>
}

/**
 * A database of its own on the server `serverUrl` names (a role allowed to CREATE DATABASE),
 * or, without one, on a throwaway server started in `scratchDir` with scripts/postgres.sh
 * (as the tests and .ci/run do). A database of its own: the bench never writes 100,000 agents
 * into one somebody already uses.
 *
 * @throws {Error} when no server can be reached or started, saying how to provide one.
 */
export async function createBenchDatabase(
  serverUrl: string | undefined,
  scratchDir: string,
): Promise<BenchDatabase> {
  let url = serverUrl
  let stopServer = async () => {}
  if (url === undefined) {
    try {
      url = (await execFileAsync('bash', [POSTGRES_SCRIPT, 'start', scratchDir])).stdout.trim()
    } catch (error) {
      throw new Error(
        `no PostgreSQL for the agent list figures: scripts/postgres.sh start failed ` +
          `(${(error as { stderr?: string }).stderr?.trim() ?? String(error)}); set ${BENCH_POSTGRES_URL_VARIABLE} ` +
          'or pass --skip-postgres',
        { cause: error },
      )
    }
    stopServer = async () => {
      await execFileAsync('bash', [POSTGRES_SCRIPT, 'stop', scratchDir])
    }
  }
  const name = `k8s_attest_bench_${randomBytes(4).toString('hex')}`
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  try {
    await admin(`CREATE DATABASE ${name}`)
  } catch (error) {
    await stopServer()
    throw error
  }
  const database = new URL(url)
  database.pathname = `/${name}`
  const version = `${database.hostname}:${database.port}/${name}`
  return {
    url: database.toString(),
    description: `PostgreSQL ${version}${serverUrl === undefined ? ' (started by scripts/postgres.sh)' : ''}`,
    async drop() {
      try {
        await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await stopServer()
      }
    },
  }
}

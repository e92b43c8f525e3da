import { isConfigError } from '@k8s-attest/spire-config'
import { loadServerConfig } from '../config/load-server-config.ts'
import type { ServerConfig } from '../config/server-config.ts'
import type { CliIo } from './cli-io.ts'
import { booleanFlag, type FlagSpec, type ParsedFlags, stringFlag } from './flags.ts'

/** `-config` and `-expandEnv`, as every SPIRE server command that reads the configuration has them. */
export const CONFIG_FLAGS: readonly FlagSpec[] = [
  {
    name: 'config',
    kind: 'string',
    description: 'Path to a k8s-attest server config file (default "conf/server.conf")',
  },
  { name: 'expandEnv', kind: 'boolean', description: 'Expand environment variables in the config file' },
]

/**
 * Loads the configuration named by {@link CONFIG_FLAGS}. A configuration problem is written to
 * stderr, every problem listed, and gives `undefined` (the command exits 1); anything else is
 * a bug and is rethrown.
 */
export async function loadConfigFromFlags(flags: ParsedFlags, io: CliIo): Promise<ServerConfig | undefined> {
  try {
    return await configLoaderFromFlags(flags)()
  } catch (error) {
    if (!isConfigError(error)) throw error
    io.stderr(`${error.message}\n`)
    return undefined
  }
}

/**
 * Loads the configuration named by {@link CONFIG_FLAGS}, each time it is called (a reload
 * reads the file the server started with, with the same `-expandEnv`).
 *
 * @returns a loader that throws `ConfigError` for a configuration problem.
 */
export function configLoaderFromFlags(flags: ParsedFlags): () => Promise<ServerConfig> {
  const path = stringFlag(flags, 'config', 'conf/server.conf')
  const expandEnv = booleanFlag(flags, 'expandEnv')
  return () => loadServerConfig(path, { expandEnv })
}

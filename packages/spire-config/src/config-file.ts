import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { ConfigError, type ConfigIssue, type ConfigSource } from './config-error.ts'
import { type Environment, expandEnv } from './expand-env.ts'
import { describeFileError } from './file-error.ts'
import { HclBodyReader } from './hcl-body-reader.ts'
import { parseHclDocument } from './hcl-document.ts'

/**
 * Reads the configuration file `source.fileName` (relative to the working directory) as UTF-8.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_UNREADABLE` naming the absolute path and why it cannot be
 *   read, with the `fs` error as `cause`.
 */
export async function readConfigFile(source: ConfigSource): Promise<string> {
  const absolutePath = resolve(source.fileName)
  try {
    return await readFile(absolutePath, 'utf8')
  } catch (error) {
    const message =
      `cannot read the configuration file (${describeFileError(error)}) at ${JSON.stringify(absolutePath)}; ` +
      'pass its path with -config'
    throw new ConfigError('ATT_ERR_CONFIG_UNREADABLE', source, [{ path: '', message }], { cause: error })
  }
}

/** SPIRE's `-expandEnv`, as both apps' loaders take it. */
export interface ExpandEnvOptions {
  /**
   * Substitute `$VAR` and `${VAR}` in the text before parsing, with Go's `os.ExpandEnv` rules
   * (unset variables become empty; see {@link expandEnv}), like `spire-server run -expandEnv` and
   * `spire-agent run -expandEnv`. Default `false`: an HCL `"${VAR}"` is then refused as an
   * unevaluated expression.
   */
  readonly expandEnv?: boolean
  /** The variables `expandEnv` substitutes. Default `process.env`; tests pass their own. */
  readonly env?: Environment
}

/**
 * What an app's loader does with the root of the document: read its schema with typed reads (each
 * problem goes to the shared list), and build the configuration. It returns `undefined` when a
 * problem leaves nothing to build, having reported that problem.
 */
export type ConfigBodyRead<T> = (root: HclBodyReader) => T | undefined | Promise<T | undefined>

/**
 * Turns configuration text into an app's configuration: environment variables first (when
 * asked), then HCL, then `read` over the document's root body, so every problem the app's schema
 * finds is collected and reported at once.
 *
 * This is the one place k8s-attest reads the process environment for configuration, and only as
 * the default of `options.env`.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_SYNTAX` for HCL syntax errors, each located
 *   `file:line:column`; `ATT_ERR_CONFIG_INVALID` listing every problem `read` recorded.
 * @throws {TypeError} when `read` returns `undefined` without recording a problem (a loader bug).
 *
 * @example
 * ```ts
 * const config = await parseConfig(text, { fileName, subject: 'agent' }, { expandEnv: true }, (root) => {
 *   const agent = root.block('agent', { required: true })
 *   root.rejectUnknownKeys()
 *   const port = agent?.integer('server_port', { min: 1, max: 65_535 }) ?? 8081
 *   agent?.rejectUnknownKeys()
 *   return agent === undefined ? undefined : { port }
 * })
 * ```
 */
export async function parseConfig<T>(
  text: string,
  source: ConfigSource,
  options: ExpandEnvOptions,
  read: ConfigBodyRead<T>,
): Promise<T> {
  const expanded = options.expandEnv === true ? expandEnv(text, options.env ?? process.env) : text
  const document = parseHclDocument(expanded, source)
  const issues: ConfigIssue[] = []
  const config = await read(new HclBodyReader('', document, issues))
  if (issues.length > 0) throw new ConfigError('ATT_ERR_CONFIG_INVALID', source, issues)
  if (config === undefined) {
    throw new TypeError(
      `the ${source.subject} configuration reader returned nothing, yet reported no problem`,
    )
  }
  return config
}

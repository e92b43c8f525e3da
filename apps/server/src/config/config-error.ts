/**
 * The configuration file could not be read (missing, a directory, no permission).
 * SPIRE answers the same case with "could not find config file …: please use the -config flag".
 */
export const ATT_ERR_CONFIG_UNREADABLE = 'ATT_ERR_CONFIG_UNREADABLE'
/** The file is not valid HCL. Each issue carries the `file:line:column` the parser reported. */
export const ATT_ERR_CONFIG_SYNTAX = 'ATT_ERR_CONFIG_SYNTAX'
/** The file is valid HCL but its content is not a valid server configuration. */
export const ATT_ERR_CONFIG_INVALID = 'ATT_ERR_CONFIG_INVALID'

/** One of the stable codes a {@link ConfigError} carries. Branch on it, never on the message. */
export type ConfigErrorCode =
  | typeof ATT_ERR_CONFIG_UNREADABLE
  | typeof ATT_ERR_CONFIG_SYNTAX
  | typeof ATT_ERR_CONFIG_INVALID

/**
 * One problem found in a configuration file.
 *
 * `path` names the key the way it is written in the file, joined with dots, with list
 * indexes and unusual map keys in brackets:
 * `plugins.NodeAttestor.k8s_psat.plugin_data.clusters.demo.audience[0]`,
 * `plugins.NodeAttestor.k8s_sat.plugin_data.clusters["my cluster"]`. For syntax errors it is
 * the location `file:line:column` instead, as the HCL parser reports it.
 */
export interface ConfigIssue {
  readonly path: string
  /** What is wrong and what was expected, e.g. `must be a duration such as "24h"; got "1 day"`. */
  readonly message: string
}

/**
 * A configuration that cannot be used. It lists every problem at once (SPIRE's
 * `validateConfig` stops at the first; operators fixing a file one error per restart
 * deserve better), so the server can print them all and exit before it listens.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code: ConfigErrorCode
  /** The configuration file as it was named to the loader. */
  readonly fileName: string
  /** Every problem found, in a stable order (sections, then keys). Never empty. */
  readonly issues: readonly ConfigIssue[]

  constructor(
    code: ConfigErrorCode,
    fileName: string,
    issues: readonly ConfigIssue[],
    options?: { readonly cause?: unknown },
  ) {
    super(formatMessage(fileName, issues), options)
    this.code = code
    this.fileName = fileName
    this.issues = Object.freeze([...issues])
  }
}

function formatMessage(fileName: string, issues: readonly ConfigIssue[]): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`
  const lines = issues.map((issue) =>
    issue.path === '' ? `  - ${issue.message}` : `  - ${issue.path}: ${issue.message}`,
  )
  return [`invalid server configuration ${JSON.stringify(fileName)} (${count}):`, ...lines].join('\n')
}

/**
 * `@k8s-attest/spire-config`: the one reader of SPIRE-style HCL configuration files, shared by the
 * k8s-attest server and agent. Each app's loader describes only its own schema:
 *
 * 1. {@link readConfigFile}: the file's text (`ATT_ERR_CONFIG_UNREADABLE`);
 * 2. {@link parseConfig}: `-expandEnv` when asked, then HCL (`ATT_ERR_CONFIG_SYNTAX`, located
 *    `file:line:column`), then the app's schema over an {@link HclBodyReader}: typed reads, unknown
 *    keys refused with a "did you mean", every problem collected into one {@link ConfigError}
 *    `ATT_ERR_CONFIG_INVALID`.
 *
 * Go's duration syntax ({@link parseDuration}) and `os.ExpandEnv` ({@link expandEnv}) are exported
 * for messages and for callers that need them on their own.
 *
 * @packageDocumentation
 */
export {
  CONFIG_ERROR_CODES,
  ConfigError,
  type ConfigErrorCode,
  type ConfigErrorDetails,
  type ConfigErrorOptions,
  type ConfigIssue,
  type ConfigSource,
  isConfigError,
} from './config-error.ts'
export { type ConfigBodyRead, type ExpandEnvOptions, parseConfig, readConfigFile } from './config-file.ts'
export { formatDuration, type ParsedDuration, parseDuration } from './duration.ts'
export { type Environment, expandEnv } from './expand-env.ts'
export { describeFileError } from './file-error.ts'
export {
  type DurationBounds,
  HclBodyReader,
  type IntegerRange,
  type ReadOptions,
  type StringListReadOptions,
  type StringReadOptions,
} from './hcl-body-reader.ts'

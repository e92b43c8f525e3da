/**
 * A short reason for a failed file read, for messages such as
 * `cannot read "/etc/k8s-attest/bundle.pem" (no such file)`: the cases an operator can act on are
 * spelled out; anything else keeps the system's own message.
 *
 * Configuration loaders use it for the configuration file itself and for every file a setting
 * points to (bundles, keys, kubeconfigs), so all of them read alike.
 *
 * @example
 * ```ts
 * await readFile(path, 'utf8').catch((error) => reader.report('trust_bundle_path',
 *   `cannot read ${JSON.stringify(path)} (${describeFileError(error)})`))
 * ```
 */
export function describeFileError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a directory, not a file'
    case 'ENOTDIR':
      return 'a part of the path is not a directory'
    default:
      return error.message
  }
}

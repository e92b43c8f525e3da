import { execFileSync } from 'node:child_process'

/**
 * `openssl req` with a new EC P-256 key (unencrypted) and `args`: what the bench's CSR and its
 * warm-up server's certificate are made with. Returns what openssl writes to stdout.
 */
export function opensslReqP256(args: readonly string[]): string {
  return execFileSync(
    'openssl',
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  )
}

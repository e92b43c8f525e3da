import { parseDuration } from '@k8s-attest/spire-config'
import type { CliIo } from './cli-io.ts'
import { CONFIG_FLAGS, loadConfigFromFlags } from './config-flags.ts'
import { type FlagSpec, parseFlags, stringFlag, UsageError } from './flags.ts'
import { MintRefusal, mintAdminSvid } from './mint-admin-svid.ts'
import { writeFilesAtomically } from './write-files-atomically.ts'

/** The `x509` verbs, as `spire-server x509 …`. */
export const X509_VERBS = ['mint'] as const

/** Printed above the flags of `x509 mint` in its usage text. */
export const X509_MINT_SYNOPSIS = `Mints an admin X.509 SVID: a new EC P-256 key and a certificate for one of the
configuration's server.admin.admin_ids, for the admin API over mutual TLS
(agent list|show|evict|ban -certFile svid.pem -keyFile key.pem).

It works offline on the CA key files in the configuration's data_dir: run it where the
server runs, as the server's user. Whoever can read those files is already fully trusted
(they could sign any certificate), so it asks for no other credential. It refuses any
SPIFFE ID that is not an admin ID, so it never mints agent or server identities.`

/** The flags of `x509 mint`. */
export const X509_MINT_FLAGS: readonly FlagSpec[] = [
  ...CONFIG_FLAGS,
  {
    name: 'spiffeID',
    kind: 'string',
    description: 'SPIFFE ID of the X509-SVID, one of server.admin.admin_ids (required)',
  },
  {
    name: 'ttl',
    kind: 'string',
    description: 'TTL of the X509-SVID, a Go duration such as "1h" (default: agent_ttl)',
  },
  {
    name: 'write',
    kind: 'string',
    description: 'Directory to write svid.pem, key.pem and bundle.pem to instead of stdout',
  },
]

/** X.509 times have whole seconds; a shorter lifetime would be gone before it could be used. */
const MIN_TTL_MS = 1_000

/**
 * `k8s-attest-server x509 mint`: see {@link X509_MINT_SYNOPSIS}. Output as SPIRE's: the SVID
 * chain, the key and the root CAs on stdout, or with `-write <dir>` the files `svid.pem`,
 * `key.pem` (mode 0600) and `bundle.pem`, each replaced atomically.
 *
 * @returns the exit status: 0 when minted, 1 when refused or the configuration or CA cannot be
 *   used (the reason is printed).
 * @throws {UsageError} for bad flags: unknown, `-spiffeID` missing, `-ttl` not a positive Go
 *   duration.
 */
export async function runX509Command(args: readonly string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args
  if (verb !== 'mint') {
    throw new UsageError(
      `unknown x509 command ${JSON.stringify(verb ?? '')}; expected one of ${X509_VERBS.join(', ')}`,
    )
  }
  const flags = parseFlags(rest, X509_MINT_FLAGS)
  if (flags.rest.length > 0)
    throw new UsageError(`x509 mint: unexpected argument ${JSON.stringify(flags.rest[0])}`)
  const spiffeId = stringFlag(flags, 'spiffeID')
  if (spiffeId === undefined || spiffeId === '') {
    throw new UsageError('x509 mint: -spiffeID is required: one of server.admin.admin_ids')
  }
  const ttlMs = ttlFlag(stringFlag(flags, 'ttl'))

  const config = await loadConfigFromFlags(flags, io)
  if (config === undefined) return 1

  let minted: Awaited<ReturnType<typeof mintAdminSvid>>
  try {
    minted = await mintAdminSvid(config, { spiffeId, ...(ttlMs === undefined ? {} : { ttlMs }) })
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    // MintRefusal, or CaStoreError: the CA in data_dir cannot be used as it is.
    if (error instanceof MintRefusal || code === 'ATT_ERR_CA_STORE_INVALID') {
      io.stderr(`Error: ${(error as Error).message} (${String(code)})\n`)
      return 1
    }
    throw error
  }
  if (minted.capped) {
    io.stderr(
      `X509-SVID lifetime was capped shorter than the requested ttl by the signing CA's expiry; expires "${minted.notAfter.toISOString()}"\n`,
    )
  }

  const write = stringFlag(flags, 'write')
  if (write === undefined || write === '') {
    io.stdout(
      `X509-SVID:\n${minted.svidPem}\nPrivate key:\n${minted.keyPem}\nRoot CAs:\n${minted.bundlePem}\n`,
    )
    return 0
  }
  let paths: string[]
  try {
    paths = await writeFilesAtomically(write, [
      { name: 'svid.pem', content: minted.svidPem, mode: 0o644 },
      { name: 'key.pem', content: minted.keyPem, mode: 0o600 },
      { name: 'bundle.pem', content: minted.bundlePem, mode: 0o644 },
    ])
  } catch (error) {
    // A file system refusal (permissions, a file in the way) is the operator's to fix.
    if (typeof (error as NodeJS.ErrnoException | null)?.code !== 'string') throw error
    io.stderr(`Error: cannot write the SVID files to ${write}: ${(error as Error).message}\n`)
    return 1
  }
  const [svidPath, keyPath, bundlePath] = paths
  io.stdout(
    `X509-SVID written to ${svidPath}\nPrivate key written to ${keyPath}\nRoot CAs written to ${bundlePath}\n`,
  )
  return 0
}

/** `-ttl` in milliseconds, `undefined` when not given (agent_ttl then applies). */
function ttlFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const parsed = parseDuration(text)
  if (!parsed.ok)
    throw new UsageError(`invalid value ${JSON.stringify(text)} for flag -ttl: ${parsed.reason}`)
  if (parsed.milliseconds < MIN_TTL_MS) {
    throw new UsageError(
      `invalid value ${JSON.stringify(text)} for flag -ttl: must be at least 1s (the SVID lifetime)`,
    )
  }
  return parsed.milliseconds
}

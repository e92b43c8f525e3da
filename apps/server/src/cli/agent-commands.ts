import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AdminClient, type AdminCredential, type AgentListFilter } from '@k8s-attest/admin-client'
import { type AgentView, isAttestError } from '@k8s-attest/core'
import type { ServerConfig } from '../config/server-config.ts'
import type { CliIo } from './cli-io.ts'
import { type FlagSpec, type ParsedFlags, parseFlags, stringFlag, UsageError } from './flags.ts'

/** The `agent` verbs, as `spire-server agent …`. */
export const AGENT_VERBS = ['list', 'show', 'evict', 'ban'] as const
type AgentVerb = (typeof AGENT_VERBS)[number]

/** How every admin command reaches and authenticates to the server (`agent …`, `reload`). */
export const CONNECTION_FLAGS: readonly FlagSpec[] = [
  {
    name: 'config',
    kind: 'string',
    description:
      "Path to the server's config file: address, trust bundle and admin token are taken from it (the flags below override)",
  },
  { name: 'expandEnv', kind: 'boolean', description: 'Expand environment variables in the config file' },
  {
    name: 'serverAddress',
    kind: 'string',
    description:
      'Address of the k8s-attest server (default: bind_address:bind_port of -config, else "localhost:8081")',
  },
  {
    name: 'trustBundle',
    kind: 'string',
    description: "Path to the server's CA bundle, PEM (default: <data_dir>/ca/bundle.pem of -config)",
  },
  {
    name: 'tokenFile',
    kind: 'string',
    description:
      'Path to a file holding the admin bearer token (default: admin.bearer_token_file of -config)',
  },
  {
    name: 'certFile',
    kind: 'string',
    description: 'Path to an admin X.509 SVID, PEM (mutual TLS instead of a token)',
  },
  { name: 'keyFile', kind: 'string', description: 'Path to the private key of -certFile, PEM' },
  { name: 'output', kind: 'string', description: 'Output format: "pretty" or "json" (default "pretty")' },
]
const SPIFFE_ID_FLAG: FlagSpec = {
  name: 'spiffeID',
  kind: 'string',
  description: 'The SPIFFE ID of the agent (required)',
}

/** The flags of each verb. */
export const AGENT_VERB_FLAGS: Readonly<Record<AgentVerb, readonly FlagSpec[]>> = {
  list: [
    ...CONNECTION_FLAGS,
    { name: 'selector', kind: 'string', description: 'Only agents with this selector, "type:value"' },
    {
      name: 'attestationType',
      kind: 'string',
      description: 'Only agents of this attestor: k8s_psat or k8s_sat',
    },
    { name: 'cluster', kind: 'string', description: 'Only agents of this cluster' },
    {
      name: 'banned',
      kind: 'boolean',
      description: 'Only banned agents (-banned=false: only agents not banned)',
    },
  ],
  show: [...CONNECTION_FLAGS, SPIFFE_ID_FLAG],
  evict: [...CONNECTION_FLAGS, SPIFFE_ID_FLAG],
  ban: [...CONNECTION_FLAGS, SPIFFE_ID_FLAG],
}

/** Bounds a hung server: the admin CLI is interactive. */
const TIMEOUT_MS = 10_000

/**
 * `k8s-attest-server agent list|show|evict|ban`: the admin API over HTTPS (the shared
 * `@k8s-attest/admin-client`), authenticated with the bearer token or an admin SVID
 * (`-certFile`/`-keyFile`), trusting the server's CA bundle. With `-config server.conf` the
 * address, bundle and token come from the server's own configuration, as an operator on the
 * server's host has them.
 *
 * @returns the exit status: 0 on success, 1 when the server refused or the configuration is
 *   unusable (the problem is printed).
 * @throws {UsageError} for bad flags.
 */
export async function runAgentCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args
  if (!isAgentVerb(verb)) {
    throw new UsageError(
      `unknown agent command ${JSON.stringify(verb ?? '')}; expected one of ${AGENT_VERBS.join(', ')}`,
    )
  }
  const flags = parseFlags(rest, AGENT_VERB_FLAGS[verb])
  const spiffeId = stringFlag(flags, 'spiffeID')
  if (verb !== 'list' && (spiffeId === undefined || spiffeId === '')) {
    throw new UsageError(`agent ${verb}: -spiffeID is required`)
  }
  return withAdminClient(flags, io, async (client, print) => {
    if (verb === 'list') {
      const agents = await client.list(listFilter(flags))
      print(agents, formatAgents(agents))
    } else if (verb === 'show') {
      const agent = await client.show(spiffeId as string)
      if (agent === undefined) {
        io.stderr(
          `Error: no agent ${JSON.stringify(spiffeId)} is recorded: never attested, or evicted (ATT_ERR_AGENT_NOT_FOUND, HTTP 404)\n`,
        )
        return 1
      }
      print(agent, formatAgents([agent]))
    } else if (verb === 'evict') {
      await client.evict(spiffeId as string)
      print({ spiffe_id: spiffeId, evicted: true }, 'Agent evicted successfully\n')
    } else {
      await client.ban(spiffeId as string)
      print({ spiffe_id: spiffeId, banned: true }, 'Agent banned successfully\n')
    }
    return 0
  })
}

/** Prints an answer: as JSON with `-output json`, else the `pretty` text. */
export type AnswerPrinter = (value: unknown, pretty: string) => void

/**
 * Connects to the admin API as {@link CONNECTION_FLAGS} say and runs `action` with the client;
 * a refusal of the server, or a server that cannot be reached, is printed as one line and
 * gives exit status 1.
 */
export async function withAdminClient(
  flags: ParsedFlags,
  io: CliIo,
  action: (client: AdminClient, print: AnswerPrinter) => Promise<number>,
): Promise<number> {
  const connection = await connectionFrom(flags, io)
  if (connection === undefined) return 1
  const client = AdminClient.connect({ ...connection, timeoutMs: TIMEOUT_MS })
  const json = stringFlag(flags, 'output', 'pretty') === 'json'
  const print: AnswerPrinter = (value, pretty) =>
    io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : pretty)
  try {
    return await action(client, print)
  } catch (error) {
    if (isAttestError(error)) {
      io.stderr(`Error: ${error.message}\n`)
      return 1
    }
    const code = (error as { code?: unknown } | null)?.code
    if (error instanceof Error && typeof code === 'string') {
      // Connection refused, TLS verification failed, timed out: the server was not reached.
      io.stderr(`Error: cannot reach the server at ${connection.url}: ${error.message} (${code})\n`)
      return 1
    }
    throw error
  } finally {
    await client.close()
  }
}

function isAgentVerb(verb: string | undefined): verb is AgentVerb {
  return (AGENT_VERBS as readonly (string | undefined)[]).includes(verb)
}

interface Connection {
  readonly url: string
  readonly trustBundlePem: string
  readonly credential: AdminCredential
}

/**
 * Where the server is and how to authenticate: the flags, with what they leave out taken from
 * `-config` (bind address and port, `<data_dir>/ca/bundle.pem`, `admin.bearer_token_file`).
 * A file that cannot be read, or a configuration that does not load, is printed and gives
 * `undefined`.
 */
async function connectionFrom(flags: ParsedFlags, io: CliIo): Promise<Connection | undefined> {
  const certFile = stringFlag(flags, 'certFile')
  const keyFile = stringFlag(flags, 'keyFile')
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('-certFile and -keyFile go together')
  let fromConfig: ServerConfig | undefined
  if (stringFlag(flags, 'config') !== undefined) {
    // Imported here: the configuration loader and its schema cost a flag-only call nothing then.
    const { loadConfigFromFlags } = await import('./config-flags.ts')
    fromConfig = await loadConfigFromFlags(flags, io)
    if (fromConfig === undefined) return undefined
  }

  const address =
    stringFlag(flags, 'serverAddress') ??
    (fromConfig === undefined ? 'localhost:8081' : dialAddress(fromConfig.bindAddress, fromConfig.bindPort))
  const bundleFile =
    stringFlag(flags, 'trustBundle') ??
    (fromConfig === undefined ? undefined : join(fromConfig.dataDir, 'ca', 'bundle.pem'))
  if (bundleFile === undefined) {
    throw new UsageError("-trustBundle is required (the server's CA bundle, PEM), or -config server.conf")
  }
  const tokenFile = stringFlag(flags, 'tokenFile')
  const configToken = fromConfig?.admin?.bearerToken
  if (tokenFile === undefined && certFile === undefined && configToken === undefined) {
    throw new UsageError(
      fromConfig === undefined
        ? 'authenticate with -tokenFile, with -certFile and -keyFile (an admin SVID), or with -config server.conf'
        : 'the configuration has no admin.bearer_token_file: authenticate with -tokenFile, or with -certFile and -keyFile',
    )
  }
  try {
    const trustBundlePem = await readFile(bundleFile, 'utf8')
    let credential: AdminCredential
    if (certFile !== undefined && keyFile !== undefined) {
      credential = {
        certificatePem: await readFile(certFile, 'utf8'),
        privateKeyPem: await readFile(keyFile, 'utf8'),
      }
    } else if (tokenFile !== undefined) {
      credential = { token: (await readFile(tokenFile, 'utf8')).trim() }
    } else {
      credential = { token: configToken?.reveal() ?? '' }
    }
    return { url: `https://${address}`, trustBundlePem, credential }
  } catch (error) {
    const { code, path } = error as NodeJS.ErrnoException
    if (code === undefined || path === undefined) throw error
    io.stderr(`Error: cannot read ${path} (${code})\n`)
    return undefined
  }
}

/** The address to dial for a listener: a wildcard bind is reached on the loopback address. */
function dialAddress(bindAddress: string, port: number): string {
  if (bindAddress === '0.0.0.0' || bindAddress === '') return `127.0.0.1:${port}`
  if (bindAddress === '::') return `[::1]:${port}`
  return bindAddress.includes(':') ? `[${bindAddress}]:${port}` : `${bindAddress}:${port}`
}

function listFilter(flags: ParsedFlags): AgentListFilter {
  const selector = stringFlag(flags, 'selector')
  const attestor = stringFlag(flags, 'attestationType')
  const cluster = stringFlag(flags, 'cluster')
  const banned = flags.values.get('banned')
  if (attestor !== undefined && attestor !== 'k8s_psat' && attestor !== 'k8s_sat') {
    throw new UsageError(`-attestationType must be k8s_psat or k8s_sat, got ${JSON.stringify(attestor)}`)
  }
  return {
    ...(selector === undefined ? {} : { selector }),
    ...(attestor === undefined ? {} : { attestor }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(typeof banned === 'boolean' ? { banned } : {}),
  }
}

/** SPIRE's `agent list`/`show` layout. */
function formatAgents(agents: readonly AgentView[]): string {
  const header =
    agents.length === 0
      ? 'No attested agents found\n'
      : `Found ${agents.length} attested ${agents.length === 1 ? 'agent' : 'agents'}:\n\n`
  const blocks = agents.map((agent) =>
    [
      `SPIFFE ID         : ${agent.spiffe_id}`,
      `Attestation type  : ${agent.attestor}`,
      `Cluster           : ${agent.cluster}`,
      `Expiration time   : ${agent.svid_expires_at}`,
      `Serial number     : ${agent.svid_serial}`,
      `Can re-attest     : ${agent.attestor === 'k8s_psat'}`,
      `Banned            : ${agent.banned}`,
      ...agent.selectors.map((selector) => `Selector          : ${selector.type}:${selector.value}`),
    ].join('\n'),
  )
  return `${header}${blocks.map((block) => `${block}\n\n`).join('')}`
}

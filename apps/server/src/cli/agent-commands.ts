import { readFile } from 'node:fs/promises'
import { type AgentListResponse, type AgentView, WIRE_PATHS } from '@k8s-attest/core'
import { Agent, request } from 'undici'
import { adminAgentPath } from '../routes/admin-agents.ts'
import type { CliIo } from './cli-io.ts'
import { type FlagSpec, type ParsedFlags, parseFlags, stringFlag, UsageError } from './flags.ts'

/** The `agent` verbs, as `spire-server agent …`. */
export const AGENT_VERBS = ['list', 'show', 'evict', 'ban'] as const
type AgentVerb = (typeof AGENT_VERBS)[number]

const CONNECTION_FLAGS: readonly FlagSpec[] = [
  {
    name: 'serverAddress',
    kind: 'string',
    description: 'Address of the k8s-attest server (default "localhost:8081")',
  },
  { name: 'trustBundle', kind: 'string', description: "Path to the server's CA bundle, PEM (required)" },
  { name: 'tokenFile', kind: 'string', description: 'Path to a file holding the admin bearer token' },
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
 * `k8s-attest-server agent list|show|evict|ban`: the admin API over HTTPS, authenticated with
 * `-tokenFile` or an admin SVID (`-certFile`/`-keyFile`), trusting `-trustBundle`.
 *
 * @returns the exit status: 0 on success, 1 when the server refused (its problem is printed).
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
  const client = await AdminClient.fromFlags(flags)
  const json = stringFlag(flags, 'output', 'pretty') === 'json'
  try {
    if (verb === 'list') {
      const agents = await listAll(client, flags)
      io.stdout(json ? `${JSON.stringify(agents, null, 2)}\n` : formatAgents(agents))
      return 0
    }
    const spiffeId = stringFlag(flags, 'spiffeID')
    if (spiffeId === undefined || spiffeId === '')
      throw new UsageError(`agent ${verb}: -spiffeID is required`)
    if (verb === 'show') {
      const agent = await client.call<AgentView>('GET', adminAgentPath(spiffeId))
      io.stdout(json ? `${JSON.stringify(agent, null, 2)}\n` : formatAgents([agent]))
    } else if (verb === 'evict') {
      await client.call('DELETE', adminAgentPath(spiffeId))
      io.stdout(
        json ? `${JSON.stringify({ spiffe_id: spiffeId, evicted: true })}\n` : 'Agent evicted successfully\n',
      )
    } else {
      await client.call('POST', adminAgentPath(spiffeId, 'ban'))
      io.stdout(
        json ? `${JSON.stringify({ spiffe_id: spiffeId, banned: true })}\n` : 'Agent banned successfully\n',
      )
    }
    return 0
  } catch (error) {
    if (error instanceof ServerRefusal) {
      io.stderr(`Error: ${error.message}\n`)
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

/** The server answered with a problem. */
class ServerRefusal extends Error {
  override readonly name = 'ServerRefusal'
  readonly code: string
  constructor(status: number, code: string, detail: string) {
    super(`${detail} (${code}, HTTP ${status})`)
    this.code = code
  }
}

/** A minimal client of the admin API. */
class AdminClient {
  readonly #origin: string
  readonly #dispatcher: Agent
  readonly #authorization: string | undefined

  private constructor(origin: string, dispatcher: Agent, authorization: string | undefined) {
    this.#origin = origin
    this.#dispatcher = dispatcher
    this.#authorization = authorization
  }

  static async fromFlags(flags: ParsedFlags): Promise<AdminClient> {
    const bundleFile = stringFlag(flags, 'trustBundle')
    if (bundleFile === undefined)
      throw new UsageError("-trustBundle is required: the server's CA bundle, PEM")
    const tokenFile = stringFlag(flags, 'tokenFile')
    const certFile = stringFlag(flags, 'certFile')
    const keyFile = stringFlag(flags, 'keyFile')
    if ((certFile === undefined) !== (keyFile === undefined))
      throw new UsageError('-certFile and -keyFile go together')
    if (tokenFile === undefined && certFile === undefined) {
      throw new UsageError('authenticate with -tokenFile, or with -certFile and -keyFile (an admin SVID)')
    }
    const ca = await readFile(bundleFile, 'utf8')
    const token = tokenFile === undefined ? undefined : (await readFile(tokenFile, 'utf8')).trim()
    const clientCertificate =
      certFile === undefined || keyFile === undefined
        ? {}
        : { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') }
    const dispatcher = new Agent({
      connect: { ca, ...clientCertificate, timeout: TIMEOUT_MS },
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    })
    const address = stringFlag(flags, 'serverAddress', 'localhost:8081')
    return new AdminClient(
      `https://${address}`,
      dispatcher,
      token === undefined ? undefined : `Bearer ${token}`,
    )
  }

  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string): Promise<T> {
    const response = await request(`${this.#origin}${path}`, {
      method,
      dispatcher: this.#dispatcher,
      headers: this.#authorization === undefined ? {} : { authorization: this.#authorization },
    })
    const body = (await response.body.json()) as Record<string, unknown>
    if (response.statusCode >= 400) {
      throw new ServerRefusal(
        response.statusCode,
        String(body.code ?? 'unknown'),
        String(body.detail ?? 'refused'),
      )
    }
    return body as T
  }

  async close(): Promise<void> {
    await this.#dispatcher.close()
  }
}

async function listAll(client: AdminClient, flags: ParsedFlags): Promise<AgentView[]> {
  const query = new URLSearchParams()
  const selector = stringFlag(flags, 'selector')
  const attestor = stringFlag(flags, 'attestationType')
  const cluster = stringFlag(flags, 'cluster')
  const banned = flags.values.get('banned')
  if (selector !== undefined) query.set('selector', selector)
  if (attestor !== undefined) query.set('attestor', attestor)
  if (cluster !== undefined) query.set('cluster', cluster)
  if (typeof banned === 'boolean') query.set('banned', String(banned))
  const agents: AgentView[] = []
  // Bounded: a server that kept returning page tokens would otherwise loop forever.
  for (let page = 0; page < 10_000; page++) {
    const answer = await client.call<AgentListResponse>('GET', `${WIRE_PATHS.adminAgents}?${query}`)
    agents.push(...answer.agents)
    if (answer.next_page_token === undefined) return agents
    query.set('page_token', answer.next_page_token)
  }
  throw new Error('the server returned more than 10,000 pages of agents')
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

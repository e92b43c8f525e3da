import {
  type AgentListResponse,
  type AgentView,
  AttestError,
  type AttestErrorCode,
  type ConfigReloadResponse,
  isAttestErrorCode,
  WIRE_PATHS,
} from '@k8s-attest/core'
import { Agent, type Dispatcher, request } from 'undici'

/** Filters of {@link AdminClient.list}, as `k8s-attest-server agent list` has them. */
export interface AgentListFilter {
  readonly attestor?: 'k8s_psat' | 'k8s_sat'
  readonly cluster?: string
  /** `"type:value"`, e.g. `"k8s_psat:agent_node_name:node-a"`. */
  readonly selector?: string
  readonly banned?: boolean
}

/** How the client proves it is an admin: the bearer token, or an admin X.509 SVID (mutual TLS). */
export type AdminCredential =
  | { readonly token: string }
  | { readonly certificatePem: string; readonly privateKeyPem: string }

/** Options of {@link AdminClient.connect}. */
export interface AdminConnectOptions {
  /** `https://host:port` of the server. */
  readonly url: string
  /** The server's CA bundle (PEM): the only roots its certificate is checked against. */
  readonly trustBundlePem: string
  readonly credential: AdminCredential
  /** Connect, headers and body timeout of each call, so a hung server cannot hang the caller. @default 10_000 */
  readonly timeoutMs?: number
}

/** Options of the {@link AdminClient} constructor, for callers that own a dispatcher already. */
export interface AdminClientOptions {
  /** `https://host:port` of the server. */
  readonly url: string
  /** A dispatcher that trusts the server's CA bundle (and presents the admin SVID for mTLS). */
  readonly dispatcher: Dispatcher
  /** The admin bearer token; leave it out when the dispatcher authenticates with an admin SVID. */
  readonly token?: string
}

/** Every agent list has fewer pages than this; more means a server looping on page tokens. */
const MAX_PAGES = 10_000

/**
 * The server's admin API, SPIRE's `spire-server agent list|show|evict|ban` over HTTPS, and the
 * configuration reload (what SIGHUP does). Agents
 * are addressed by SPIFFE ID, percent-encoded as one path segment. A refusal throws the
 * server's own {@link AttestError} code (`ATT_ERR_UNAUTHENTICATED`, `ATT_ERR_AGENT_NOT_FOUND`…).
 *
 * @example
 * ```ts
 * const admin = AdminClient.connect({ url, trustBundlePem, credential: { token } })
 * try {
 *   for (const agent of await admin.list({ cluster: 'demo' })) console.log(agent.spiffe_id)
 * } finally {
 *   await admin.close()
 * }
 * ```
 */
export class AdminClient {
  readonly #url: string
  readonly #dispatcher: Dispatcher
  readonly #headers: Readonly<Record<string, string>>
  /** The dispatcher {@link AdminClient.connect} made, closed by {@link close}; a caller's is left alone. */
  #owned: Agent | undefined

  constructor(options: AdminClientOptions) {
    this.#url = options.url
    this.#dispatcher = options.dispatcher
    this.#headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
  }

  /** A client with a connection pool of its own, trusting only `trustBundlePem`; {@link close} it. */
  static connect(options: AdminConnectOptions): AdminClient {
    const timeout = options.timeoutMs ?? 10_000
    const { credential } = options
    const clientCertificate =
      'certificatePem' in credential ? { cert: credential.certificatePem, key: credential.privateKeyPem } : {}
    const dispatcher = new Agent({
      connect: { ca: options.trustBundlePem, ...clientCertificate, timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    })
    const client = new AdminClient({
      url: options.url,
      dispatcher,
      ...('token' in credential ? { token: credential.token } : {}),
    })
    client.#owned = dispatcher
    return client
  }

  /** Every recorded agent matching `filter`, following pages. */
  async list(filter: AgentListFilter = {}): Promise<AgentView[]> {
    const query = new URLSearchParams()
    if (filter.attestor !== undefined) query.set('attestor', filter.attestor)
    if (filter.cluster !== undefined) query.set('cluster', filter.cluster)
    if (filter.selector !== undefined) query.set('selector', filter.selector)
    if (filter.banned !== undefined) query.set('banned', String(filter.banned))
    const agents: AgentView[] = []
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.#call<AgentListResponse>(
        'list agents',
        'GET',
        `${WIRE_PATHS.adminAgents}?${query}`,
      )
      agents.push(...answer.agents)
      if (answer.next_page_token === undefined) return agents
      query.set('page_token', answer.next_page_token)
    }
    throw new AttestError(
      'ATT_ERR_INTERNAL',
      `list agents: the server returned more than ${MAX_PAGES} pages of agents`,
    )
  }

  /** The agent's record, or `undefined` if the server has none (never attested, or evicted). */
  async show(spiffeId: string): Promise<AgentView | undefined> {
    try {
      return await this.#call<AgentView>(`show ${spiffeId}`, 'GET', adminAgentPath(spiffeId))
    } catch (error) {
      if (error instanceof AttestError && error.code === 'ATT_ERR_AGENT_NOT_FOUND') return undefined
      throw error
    }
  }

  /** Deletes the agent's record; a k8s_psat agent may attest again. */
  async evict(spiffeId: string): Promise<void> {
    await this.#call(`evict ${spiffeId}`, 'DELETE', adminAgentPath(spiffeId))
  }

  /** Bans the agent: its attestations and renewals are refused until it is evicted. */
  ban(spiffeId: string): Promise<AgentView> {
    return this.#call<AgentView>(`ban ${spiffeId}`, 'POST', adminAgentPath(spiffeId, 'ban'))
  }

  /**
   * Has the server re-read its configuration file (`POST /v1/admin/reload`, as SIGHUP): the
   * clusters added, changed and removed, per node attestor. A file the server refuses throws
   * `ATT_ERR_CONFIG_RELOAD_REFUSED` with every problem in the message and `check`
   * `config_valid` or `config_reloadable`; the server keeps running on its old configuration.
   */
  reload(): Promise<ConfigReloadResponse> {
    return this.#call<ConfigReloadResponse>('reload the configuration', 'POST', WIRE_PATHS.adminReload)
  }

  /** Closes the connection pool made by {@link AdminClient.connect}; a caller's dispatcher stays open. */
  async close(): Promise<void> {
    await this.#owned?.close()
  }

  async #call<T>(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string): Promise<T> {
    const response = await request(`${this.#url}${path}`, {
      method,
      dispatcher: this.#dispatcher,
      headers: this.#headers,
    })
    const text = await response.body.text()
    // JSON bodies (answers and problems) are parsed; anything else (a proxy's page) is quoted.
    const body: unknown = /json/.test(String(response.headers['content-type'])) ? JSON.parse(text) : undefined
    if (response.statusCode !== 200) throw refusal(operation, response.statusCode, body, text)
    if (body === undefined) {
      throw new AttestError(
        'ATT_ERR_INTERNAL',
        `${operation}: the admin API answered 200 without JSON: ${text.slice(0, 300)}`,
      )
    }
    return body as T
  }
}

/** The path of one agent's resource (`/v1/admin/agents/<percent-encoded ID>[/ban]`). */
export function adminAgentPath(spiffeId: string, action?: 'ban'): string {
  const path = `${WIRE_PATHS.adminAgents}/${encodeURIComponent(spiffeId)}`
  return action === undefined ? path : `${path}/${action}`
}

/**
 * The server's problem as an {@link AttestError} with the server's code and details; an answer
 * that is no problem of ours (a proxy's error page) becomes `ATT_ERR_INTERNAL`, quoting it.
 */
function refusal(operation: string, status: number, body: unknown, text: string): AttestError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const known = isAttestErrorCode(problem.code)
  const code: AttestErrorCode = known ? (problem.code as AttestErrorCode) : 'ATT_ERR_INTERNAL'
  const detail = typeof problem.detail === 'string' ? problem.detail : text.slice(0, 300)
  const field = (name: string) => (typeof problem[name] === 'string' ? { [name]: problem[name] } : {})
  return new AttestError(
    code,
    known
      ? `${operation}: ${detail} (${code}, HTTP ${status})`
      : `${operation}: the admin API answered HTTP ${status} without a k8s-attest problem: ${detail}`,
    { ...field('check'), ...field('cluster'), ...field('value'), ...field('expected') },
  )
}

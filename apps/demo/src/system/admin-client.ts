import { type AgentListResponse, type AgentView, WIRE_PATHS } from '@k8s-attest/core'
import { type Dispatcher, request } from 'undici'

/** The admin API refused a call: its problem `code` and HTTP status. */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError'
  readonly status: number
  /** The server's `ATT_ERR_*` code, or `"unknown"` for a body without one. */
  readonly code: string

  constructor(operation: string, status: number, code: string, detail: string) {
    super(`${operation}: the admin API answered ${status} ${code}: ${detail}`)
    this.status = status
    this.code = code
  }
}

/** Filters of {@link AdminClient.list}, as `k8s-attest-server agent list` has them. */
export interface AgentListFilter {
  readonly attestor?: 'k8s_psat' | 'k8s_sat'
  readonly cluster?: string
  /** `"type:value"`, e.g. `"k8s_psat:agent_node_name:node-a"`. */
  readonly selector?: string
  readonly banned?: boolean
}

/** Options of {@link AdminClient}. */
export interface AdminClientOptions {
  /** `https://host:port` of the server. */
  readonly url: string
  /** A dispatcher that trusts the server's CA bundle. */
  readonly dispatcher: Dispatcher
  /** The admin bearer token (`admin.bearer_token_file` on the server). */
  readonly token: string
}

/** Every agent list has fewer pages than this; more means a server looping on page tokens. */
const MAX_PAGES = 1_000

/**
 * The server's admin API (SPIRE's `spire-server agent list|show|evict|ban`), over HTTPS with
 * the bearer token. Agents are addressed by SPIFFE ID, percent-encoded as one path segment.
 */
export class AdminClient {
  readonly #url: string
  readonly #dispatcher: Dispatcher
  readonly #authorization: string

  constructor(options: AdminClientOptions) {
    this.#url = options.url
    this.#dispatcher = options.dispatcher
    this.#authorization = `Bearer ${options.token}`
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
    throw new Error(`list agents: the server returned more than ${MAX_PAGES} pages`)
  }

  /** The agent's record, or `undefined` if the server has none (never attested, or evicted). */
  async show(spiffeId: string): Promise<AgentView | undefined> {
    try {
      return await this.#call<AgentView>(`show ${spiffeId}`, 'GET', agentPath(spiffeId))
    } catch (error) {
      if (error instanceof AdminApiError && error.code === 'ATT_ERR_AGENT_NOT_FOUND') return undefined
      throw error
    }
  }

  /** Deletes the agent's record; a k8s_psat agent may attest again. */
  async evict(spiffeId: string): Promise<void> {
    await this.#call(`evict ${spiffeId}`, 'DELETE', agentPath(spiffeId))
  }

  /** Bans the agent: its attestations and renewals are refused until it is evicted. */
  async ban(spiffeId: string): Promise<AgentView> {
    return this.#call<AgentView>(`ban ${spiffeId}`, 'POST', `${agentPath(spiffeId)}/ban`)
  }

  async #call<T>(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string): Promise<T> {
    const response = await request(`${this.#url}${path}`, {
      method,
      dispatcher: this.#dispatcher,
      headers: { authorization: this.#authorization },
    })
    const text = await response.body.text()
    // JSON bodies (answers and problems) are parsed; anything else (a proxy's page) is quoted.
    const body: unknown = /json/.test(String(response.headers['content-type'])) ? JSON.parse(text) : undefined
    if (response.statusCode !== 200) {
      const problem = (body ?? {}) as { code?: unknown; detail?: unknown }
      throw new AdminApiError(
        operation,
        response.statusCode,
        typeof problem.code === 'string' ? problem.code : 'unknown',
        typeof problem.detail === 'string' ? problem.detail : text.slice(0, 300),
      )
    }
    if (body === undefined)
      throw new Error(`${operation}: the admin API answered 200 without JSON: ${text.slice(0, 300)}`)
    return body as T
  }
}

function agentPath(spiffeId: string): string {
  return `${WIRE_PATHS.adminAgents}/${encodeURIComponent(spiffeId)}`
}

import type { AgentListQuery, AgentListResponse, AgentView } from '@k8s-attest/core'

/** The admin API's agent listing, as the dashboard reads it. */
export type { AgentListResponse, AgentView }

/** `GET /dashboard/api/overview`. */
export interface Overview {
  readonly server_time: string
  readonly ready: boolean
  readonly problems: readonly string[]
  readonly agents: { readonly attested: number; readonly expired: number; readonly banned: number }
  readonly attestations: {
    readonly bucket_seconds: number
    readonly buckets: readonly AttestationBucket[]
  }
}

/** One bar of the attestations chart. */
export interface AttestationBucket {
  readonly start: string
  readonly success: number
  readonly refused: Readonly<Record<string, number>>
  readonly error: number
}

/** What the list's controls ask for: the admin API's query, page token aside. */
export type AgentQuery = Omit<AgentListQuery, 'page_token'>

/** An answer that was not 2xx: the problem+json `detail`/`title`, or the status. */
export class ApiError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

/** Thrown when the session ended (expired, signed out elsewhere, server restarted). */
export class SignedOut extends ApiError {}

const ADMIN_AGENTS = '/v1/admin/agents'

/**
 * The server's API as the signed-in browser calls it: same origin, the session cookie sent by
 * the browser (never readable here), and the session's CSRF token on every request that changes
 * something.
 */
export class DashboardApi {
  #csrfToken: string | undefined

  /** Fetches the session's CSRF token; rejects with {@link SignedOut} without a session. */
  async start(): Promise<void> {
    const session = await this.#request<{ csrf_token: string }>('GET', '/dashboard/api/session')
    this.#csrfToken = session.csrf_token
  }

  listAgents(query: AgentQuery, pageToken?: string): Promise<AgentListResponse> {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(key, String(value))
    }
    if (pageToken !== undefined) params.set('page_token', pageToken)
    return this.#request('GET', `${ADMIN_AGENTS}?${params}`)
  }

  getAgent(spiffeId: string): Promise<AgentView> {
    return this.#request('GET', agentPath(spiffeId))
  }

  evict(spiffeId: string): Promise<unknown> {
    return this.#request('DELETE', agentPath(spiffeId))
  }

  ban(spiffeId: string): Promise<AgentView> {
    return this.#request('POST', `${agentPath(spiffeId)}/ban`)
  }

  overview(): Promise<Overview> {
    return this.#request('GET', '/dashboard/api/overview')
  }

  async signOut(): Promise<void> {
    await this.#request('POST', '/dashboard/sign-out')
  }

  async #request<T>(method: string, path: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (method !== 'GET' && this.#csrfToken !== undefined) headers['x-csrf-token'] = this.#csrfToken
    const response = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store' })
    if (response.status === 204) return undefined as T
    const body: unknown = await response.json().catch(() => undefined)
    if (response.ok) return body as T
    const problem = (body ?? {}) as { detail?: string; title?: string }
    const message = problem.detail ?? problem.title ?? `HTTP ${response.status}`
    throw response.status === 401 ? new SignedOut(401, message) : new ApiError(response.status, message)
  }
}

function agentPath(spiffeId: string): string {
  return `${ADMIN_AGENTS}/${encodeURIComponent(spiffeId)}`
}

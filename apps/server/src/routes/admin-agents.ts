import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type AgentView, AttestError, parseSelector, parseSpiffeId, WIRE_PATHS } from '@k8s-attest/core'
import { AgentListQuerySchema, AgentListResponseSchema, AgentViewSchema } from '@k8s-attest/core/wire'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { AdminAuthenticator } from '../admin/admin-auth.ts'
import type { DashboardSessions } from '../dashboard/dashboard-sessions.ts'
import type { AgentRecord } from '../datastore/agent-store.ts'
import { refuseCrossSite, SAFE_METHODS } from '../http/cross-site.ts'
import { problemResponses } from '../http/problem-responses.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'

/** Options of {@link adminAgentRoutes}. */
export interface AdminAgentRoutesOptions {
  readonly authenticator: AdminAuthenticator
  /** When the dashboard is served: its signed-in browsers may call the admin API too. */
  readonly sessions?: DashboardSessions
}

/**
 * Paths of the admin API. An agent is addressed by its SPIFFE ID, percent-encoded as one path
 * segment (`encodeURIComponent`).
 */
export const ADMIN_PATHS = {
  agents: WIRE_PATHS.adminAgents,
  agent: `${WIRE_PATHS.adminAgents}/:spiffe_id`,
  ban: `${WIRE_PATHS.adminAgents}/:spiffe_id/ban`,
} as const

const AgentParamsSchema = Type.Object(
  {
    spiffe_id: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'The agent SPIFFE ID, percent-encoded',
    }),
  },
  { additionalProperties: false },
)
const EvictResponseSchema = Type.Object(
  { spiffe_id: Type.String(), evicted: Type.Literal(true) },
  { additionalProperties: false },
)
const ADMIN_ERRORS = [400, 401, 403, 500, 503] as const

/**
 * The `onRequest` hook of every admin route: authenticate the caller (a dashboard session when
 * `sessions` is given and the request carries one, else the admin credential) or refuse, and log
 * the call.
 */
export function adminAuthenticationHook(
  authenticator: AdminAuthenticator,
  sessions?: DashboardSessions,
): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const caller =
      (await sessions?.adminCallerOf(request)) ??
      authenticator.authenticate(request.headers.authorization, request.raw.socket)
    // A browser sends its client certificate with any request, another site's form post too
    // (a session's changes are checked with its CSRF token, a bearer token is never ambient).
    if (caller.via === 'mtls' && !SAFE_METHODS.has(request.method)) refuseCrossSite(request)
    // The access log of the admin API: who did what, by route (never the percent-encoded ID alone).
    // The dashboard re-reads its page every few seconds: its reads are debug, its changes info.
    const level = caller.via === 'dashboard_session' && request.method === 'GET' ? 'debug' : 'info'
    request.log[level](
      {
        [LOG_FIELDS.method]: request.method,
        [LOG_FIELDS.route]: request.routeOptions.url,
        admin_auth: caller.via,
        ...(caller.via === 'mtls' ? { admin_id: caller.spiffeId } : {}),
      },
      'admin API call',
    )
  }
}

/**
 * The admin API, SPIRE's `spire-server agent` verbs over HTTPS: list (filtered, searched, sorted, paginated),
 * show, evict (the record is deleted; a k8s_psat agent may attest again) and ban (refused
 * until evicted). Every request is authenticated first (`AdminAuthenticator`) and logged.
 */
export const adminAgentRoutes: FastifyPluginAsyncTypebox<AdminAgentRoutesOptions> = async (app, options) => {
  app.addHook('onRequest', adminAuthenticationHook(options.authenticator, options.sessions))

  app.get(
    ADMIN_PATHS.agents,
    {
      schema: {
        summary: 'List attested agents',
        querystring: AgentListQuerySchema,
        response: { 200: AgentListResponseSchema, ...problemResponses(...ADMIN_ERRORS) },
      },
    },
    async (request) => {
      const { cluster, attestor, selector, banned, state, search, sort, order, page_size, page_token } =
        request.query
      const page = await app.agents.listAgents({
        ...(cluster === undefined ? {} : { cluster }),
        ...(attestor === undefined ? {} : { attestor }),
        ...(selector === undefined ? {} : { selectors: [parseSelector(selector)] }),
        ...(banned === undefined ? {} : { banned }),
        ...(state === undefined ? {} : { state }),
        ...(search === undefined ? {} : { search }),
        ...(sort === undefined ? {} : { sort }),
        ...(order === undefined ? {} : { descending: order === 'desc' }),
        ...(page_size === undefined ? {} : { pageSize: page_size }),
        ...(page_token === undefined ? {} : { pageToken: page_token }),
      })
      return {
        agents: page.agents.map(agentView),
        ...(page.nextPageToken === undefined ? {} : { next_page_token: page.nextPageToken }),
      }
    },
  )

  app.get(
    ADMIN_PATHS.agent,
    {
      schema: {
        summary: 'Show one agent',
        params: AgentParamsSchema,
        response: { 200: AgentViewSchema, ...problemResponses(...ADMIN_ERRORS, 404) },
      },
    },
    async (request) => {
      const spiffeId = agentIdOf(request.params)
      const agent = await app.agents.getAgent(spiffeId)
      if (agent === undefined) throw agentNotFound(spiffeId)
      return agentView(agent)
    },
  )

  app.delete(
    ADMIN_PATHS.agent,
    {
      schema: {
        summary: 'Evict an agent: delete its record, a ban with it; it may attest again',
        params: AgentParamsSchema,
        response: { 200: EvictResponseSchema, ...problemResponses(...ADMIN_ERRORS, 404) },
      },
    },
    async (request) => {
      const spiffeId = agentIdOf(request.params)
      if (!(await app.agents.evictAgent(spiffeId))) throw agentNotFound(spiffeId)
      request.log.info({ [LOG_FIELDS.agentId]: spiffeId }, 'agent evicted')
      return { spiffe_id: spiffeId, evicted: true as const }
    },
  )

  app.post(
    ADMIN_PATHS.ban,
    {
      schema: {
        summary: 'Ban an agent: refuse its attestations and renewals until it is evicted',
        params: AgentParamsSchema,
        response: { 200: AgentViewSchema, ...problemResponses(...ADMIN_ERRORS, 404) },
      },
    },
    async (request) => {
      const spiffeId = agentIdOf(request.params)
      if (!(await app.agents.banAgent(spiffeId))) throw agentNotFound(spiffeId)
      const agent = await app.agents.getAgent(spiffeId)
      if (agent === undefined) throw agentNotFound(spiffeId)
      request.log.info({ [LOG_FIELDS.agentId]: spiffeId }, 'agent banned')
      return agentView(agent)
    },
  )
}

/** The admin API's view of a record (snake_case, dates as RFC 3339). */
export function agentView(agent: AgentRecord): AgentView {
  return {
    spiffe_id: agent.spiffeId,
    attestor: agent.attestor,
    cluster: agent.cluster,
    selectors: agent.selectors.map(({ type, value }) => ({ type, value })),
    svid_serial: agent.svidSerial,
    svid_expires_at: agent.svidExpiresAt.toISOString(),
    first_attested_at: agent.firstAttestedAt.toISOString(),
    last_attested_at: agent.lastAttestedAt.toISOString(),
    banned: agent.banned,
  }
}

/**
 * The agent SPIFFE ID of the path, checked before the store sees it: the store treats a
 * malformed ID as its caller's bug, but here it is the client's input (`..`, `*`, a trailing
 * `/`, an upper-case trust domain), so it is a 400 naming the broken rule.
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` with the rule as `check`.
 */
function agentIdOf(params: { readonly spiffe_id: string }): string {
  parseSpiffeId(params.spiffe_id)
  return params.spiffe_id
}

function agentNotFound(spiffeId: string): AttestError {
  return new AttestError('ATT_ERR_AGENT_NOT_FOUND', `no attested agent "${spiffeId}"`, {
    check: 'agent_exists',
    value: spiffeId,
  })
}

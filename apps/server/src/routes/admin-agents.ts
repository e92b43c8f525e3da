import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  AgentListQuerySchema,
  AgentListResponseSchema,
  type AgentView,
  AgentViewSchema,
  AttestError,
  parseSelector,
  WIRE_PATHS,
} from '@k8s-attest/core'
import { Type } from 'typebox'
import type { AdminAuthenticator } from '../admin/admin-auth.ts'
import type { AgentRecord } from '../datastore/agent-store.ts'
import { problemResponses } from '../http/problem-responses.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'

/** Options of {@link adminAgentRoutes}. */
export interface AdminAgentRoutesOptions {
  readonly authenticator: AdminAuthenticator
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
const ADMIN_ERRORS = [400, 401, 500, 503] as const

/**
 * The admin API, SPIRE's `spire-server agent` verbs over HTTPS: list (filtered, paginated),
 * show, evict (the record is deleted; a k8s_psat agent may attest again) and ban (refused
 * until evicted). Every request is authenticated first (`AdminAuthenticator`) and logged.
 */
export const adminAgentRoutes: FastifyPluginAsyncTypebox<AdminAgentRoutesOptions> = async (app, options) => {
  app.addHook('onRequest', async (request) => {
    const caller = options.authenticator.authenticate(request.headers.authorization, request.raw.socket)
    // The access log of the admin API: who did what, by route (never the percent-encoded ID alone).
    request.log.info(
      {
        [LOG_FIELDS.method]: request.method,
        [LOG_FIELDS.route]: request.routeOptions.url,
        admin_auth: caller.via,
        ...(caller.via === 'mtls' ? { admin_id: caller.spiffeId } : {}),
      },
      'admin API call',
    )
  })

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
      const { cluster, attestor, selector, banned, page_size, page_token } = request.query
      const page = await app.agents.listAgents({
        ...(cluster === undefined ? {} : { cluster }),
        ...(attestor === undefined ? {} : { attestor }),
        ...(selector === undefined ? {} : { selectors: [parseSelector(selector)] }),
        ...(banned === undefined ? {} : { banned }),
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
      const agent = await app.agents.getAgent(request.params.spiffe_id)
      if (agent === undefined) throw agentNotFound(request.params.spiffe_id)
      return agentView(agent)
    },
  )

  app.delete(
    ADMIN_PATHS.agent,
    {
      schema: {
        summary: 'Evict an agent: delete its record (and ban); it may attest again',
        params: AgentParamsSchema,
        response: { 200: EvictResponseSchema, ...problemResponses(...ADMIN_ERRORS, 404) },
      },
    },
    async (request) => {
      const spiffeId = request.params.spiffe_id
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
      const spiffeId = request.params.spiffe_id
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

function agentNotFound(spiffeId: string): AttestError {
  return new AttestError('ATT_ERR_AGENT_NOT_FOUND', `no attested agent "${spiffeId}"`, {
    check: 'agent_exists',
    value: spiffeId,
  })
}

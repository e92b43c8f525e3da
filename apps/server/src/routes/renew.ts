import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AttestError, WIRE_PATHS } from '@k8s-attest/core'
import { RenewRequestSchema, RenewResponseSchema } from '@k8s-attest/core/wire'
import { toProblemResponse } from '../http/problem.ts'
import { problemResponses } from '../http/problem-responses.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { peerSvidOf } from '../server/peer-svid.ts'
import type { RouteRateLimit } from './rate-limit.ts'

/** Options of {@link renewRoute}. */
export interface RenewRouteOptions {
  readonly rateLimit: RouteRateLimit | undefined
}

const PEER_PROBLEMS = {
  no_certificate: "renewal needs the agent's current X.509 SVID as TLS client certificate",
  not_verified: "the client certificate does not chain to this server's trust bundle (or had expired)",
  expired: 'the client certificate has expired since this connection was opened',
  no_spiffe_id: 'the client certificate does not name exactly one SPIFFE ID',
} as const

/**
 * `POST /v1/renew`: a k8s_sat agent presents its current SVID over mutual TLS and a new CSR.
 * The TLS layer verified the certificate chain (requested, not required); this route insists
 * that there is one.
 */
export const renewRoute: FastifyPluginAsyncTypebox<RenewRouteOptions> = async (app, options) => {
  app.post(
    WIRE_PATHS.renew,
    {
      schema: {
        summary: 'Renew a k8s_sat agent SVID over mutual TLS with the current SVID',
        body: RenewRequestSchema,
        response: { 200: RenewResponseSchema, ...problemResponses(400, 401, 403, 404, 413, 429, 500, 503) },
      },
      config: options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit },
    },
    async (request) => {
      try {
        const peer = peerSvidOf(request.raw.socket)
        if (typeof peer === 'string') {
          throw new AttestError('ATT_ERR_UNAUTHENTICATED', PEER_PROBLEMS[peer], {
            check: `client_certificate_${peer}`,
          })
        }
        const { agent, response } = await app.attestation.renew(peer, request.body.csr)
        app.metrics.recordRenewal('success', '')
        request.log.info(
          {
            [LOG_FIELDS.agentId]: agent.spiffeId,
            [LOG_FIELDS.attestor]: agent.attestor,
            [LOG_FIELDS.cluster]: agent.cluster,
          },
          'agent SVID renewed',
        )
        return response
      } catch (error) {
        const { status, problem } = toProblemResponse(error)
        app.metrics.recordRenewal(status >= 500 ? 'error' : 'refused', problem.code)
        throw error
      }
    },
  )
}

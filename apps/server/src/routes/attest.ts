import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WIRE_PATHS } from '@k8s-attest/core'
import { AttestRequestSchema, SvidResponseSchema } from '@k8s-attest/core/wire'
import { toProblemResponse } from '../http/problem.ts'
import { problemResponses } from '../http/problem-responses.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import type { RouteRateLimit } from './rate-limit.ts'

/** Options of {@link attestRoute}. */
export interface AttestRouteOptions {
  /** Per-source-address limit; `undefined` when `rate_limit.enabled = false`. */
  readonly rateLimit: RouteRateLimit | undefined
}

/**
 * `POST /v1/attest`: node attestation with a service account token and a CSR. The route only
 * translates: checks run in `AttestationService`, refusals become problems in the error handler.
 */
export const attestRoute: FastifyPluginAsyncTypebox<AttestRouteOptions> = async (app, options) => {
  app.post(
    WIRE_PATHS.attest,
    {
      schema: {
        summary: 'Attest a node with a Kubernetes service account token and receive an X.509 SVID',
        body: AttestRequestSchema,
        response: { 200: SvidResponseSchema, ...problemResponses(400, 401, 403, 413, 429, 500, 502, 503) },
      },
      config: options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit },
    },
    async (request) => {
      const attestor = request.body.attestation.type
      const started = performance.now()
      try {
        const { agent, response } = await app.attestation.attest(request.body)
        app.metrics.recordAttestation(attestor, 'success', '', (performance.now() - started) / 1000)
        request.log.info(
          {
            [LOG_FIELDS.agentId]: agent.spiffeId,
            [LOG_FIELDS.attestor]: agent.attestor,
            [LOG_FIELDS.cluster]: agent.cluster,
            [LOG_FIELDS.serviceAccount]: agent.serviceAccount,
            ...(agent.credentialId === undefined ? {} : { [LOG_FIELDS.credentialId]: agent.credentialId }),
          },
          'agent attested',
        )
        return response
      } catch (error) {
        const { status, problem } = toProblemResponse(error)
        const result = status >= 500 ? 'error' : 'refused'
        app.metrics.recordAttestation(attestor, result, problem.code, (performance.now() - started) / 1000)
        // The API server refused the server's own credentials: /ready must not wait a minute to say so.
        if (problem.code === 'ATT_ERR_KUBE_API_FAILED') app.readiness.apiRefusedServer()
        throw error
      }
    },
  )
}

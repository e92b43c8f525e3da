import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AttestError } from '@k8s-attest/core'
import { Type } from 'typebox'
import { PROBLEM_CONTENT_TYPE, toProblemResponse } from '../http/problem.ts'
import { problemResponses } from '../http/problem-responses.ts'

const StatusSchema = Type.Object({ status: Type.String() }, { additionalProperties: false })

/** Paths of the probes. */
export const HEALTH_PATHS = { live: '/live', ready: '/ready' } as const

/**
 * `GET /live`: the process serves HTTP. `GET /ready`: it can attest — the datastore answers and
 * every cluster granted the permissions attestation needs (see `Readiness` for when they are
 * checked); otherwise 503 `ATT_ERR_NOT_READY`. The reasons are in the log, not in this
 * unauthenticated answer, and logged once when they change: a failing probe writes no line.
 */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    HEALTH_PATHS.live,
    { schema: { summary: 'Liveness probe', response: { 200: StatusSchema } } },
    async () => ({ status: 'live' }),
  )
  app.get(
    HEALTH_PATHS.ready,
    { schema: { summary: 'Readiness probe', response: { 200: StatusSchema, ...problemResponses(503) } } },
    async (_request, reply) => {
      const report = await app.readiness.report()
      if (report.ready) return { status: 'ready' }
      // Answered here rather than thrown to the error handler, which logs every error it sends:
      // Readiness has logged this state once already, and probes repeat every few seconds.
      const { problem, retryAfterSeconds } = toProblemResponse(
        new AttestError('ATT_ERR_NOT_READY', `not ready: ${report.problems.join('; ')}`, {
          check: 'readiness',
        }),
      )
      if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
      // STATUS_BY_CODE maps ATT_ERR_NOT_READY to 503 (the route's declared refusal).
      return reply.code(503).type(PROBLEM_CONTENT_TYPE).send(problem)
    },
  )
}

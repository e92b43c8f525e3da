import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AttestError } from '@k8s-attest/core'
import { Type } from 'typebox'
import { problemResponses } from '../http/problem-responses.ts'

const StatusSchema = Type.Object({ status: Type.String() }, { additionalProperties: false })

/** Paths of the probes. */
export const HEALTH_PATHS = { live: '/live', ready: '/ready' } as const

/**
 * `GET /live`: the process serves HTTP. `GET /ready`: it can attest — the datastore answers and
 * every cluster granted the permissions attestation needs (see `Readiness`); otherwise 503
 * `ATT_ERR_NOT_READY` (the reasons are in the log, not in this unauthenticated answer).
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
    async () => {
      const report = await app.readiness.report()
      if (!report.ready) {
        throw new AttestError('ATT_ERR_NOT_READY', `not ready: ${report.problems.join('; ')}`, {
          check: 'readiness',
        })
      }
      return { status: 'ready' }
    },
  )
}

import { AttestError } from '@k8s-attest/core'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { PROBLEM_CONTENT_TYPE, type ProblemResponse, toProblemResponse } from './problem.ts'

/**
 * The server's one error handler: every refusal becomes an `application/problem+json` body
 * with its stable code, and is logged exactly once, here (SPIRE's `MakeErr`): `warn` with the
 * failed check for 4xx, `error` with the full error for 5xx (whose answer stays generic).
 */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return sendProblem(request, reply, toProblemResponse(error))
}

/** Unknown routes answer with a problem too, so clients parse one error format only. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const route = `${request.method} ${request.url.split('?')[0]}`
  const error = new AttestError('ATT_ERR_ROUTE_NOT_FOUND', `no route ${route}`, {
    check: 'route',
    value: route,
  })
  return sendProblem(request, reply, toProblemResponse(error))
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, response: ProblemResponse): FastifyReply {
  const { status, problem, error, retryAfterSeconds } = response
  const fields = {
    [LOG_FIELDS.code]: problem.code,
    ...(problem.check === undefined ? {} : { [LOG_FIELDS.check]: problem.check }),
    ...(problem.cluster === undefined ? {} : { [LOG_FIELDS.cluster]: problem.cluster }),
  }
  if (status >= 500) {
    request.log.error({ ...fields, err: error }, error.message)
  } else {
    const value = error.details.value
    request.log.warn(
      { ...fields, ...(value === undefined ? {} : { [LOG_FIELDS.value]: value }) },
      error.message,
    )
  }
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(problem)
}

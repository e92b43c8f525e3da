import { AttestError } from '@k8s-attest/core'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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

/**
 * From the moment the app starts closing, refuses every new request with `503
 * ATT_ERR_NOT_READY` (and `Connection: close`), so a load balancer retries elsewhere; the
 * requests in flight finish. Takes the place of fastify's `return503OnClosing`, whose body is
 * not a problem.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    const error = new AttestError('ATT_ERR_NOT_READY', 'the server is shutting down', {
      check: 'server_closing',
      retryAfterSeconds: 1,
    })
    return sendProblem(request, reply, toProblemResponse(error))
  })
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
    // The problem's value and detail, already cut to length: a refusal quotes unverified input.
    const { value, detail } = problem
    request.log.warn({ ...fields, ...(value === undefined ? {} : { [LOG_FIELDS.value]: value }) }, detail)
  }
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(problem)
}

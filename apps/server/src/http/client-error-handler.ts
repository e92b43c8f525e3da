import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { AttestError } from '@k8s-attest/core'
import type { FastifyInstance } from 'fastify'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { PROBLEM_CONTENT_TYPE, toProblemResponse } from './problem.ts'

/**
 * What Node's HTTP parser refused before any request existed, as the refusal to send. Node
 * raises these on the socket (`clientError`): a header that never completed in time (or a
 * body, past `request_timeout`), headers beyond the size limit, bytes that are not HTTP.
 */
export function clientErrorOf(error: Error & { code?: string }): AttestError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AttestError(
        'ATT_ERR_REQUEST_TIMEOUT',
        'the request was not received in time (server.read_header_timeout / request_timeout)',
        { check: 'request_timeout' },
      )
    case 'HPE_HEADER_OVERFLOW':
      return new AttestError('ATT_ERR_HEADERS_TOO_LARGE', 'the request headers are too large', {
        check: 'header_size',
        expected: 'at most 16 KiB of headers',
      })
    default:
      return new AttestError('ATT_ERR_BAD_REQUEST', 'the request is not valid HTTP/1.1', {
        check: 'http_parse',
        ...(error.code === undefined ? {} : { value: error.code }),
      })
  }
}

/**
 * fastify's `clientErrorHandler` (fastify binds it to the instance): answers what the HTTP parser refused with the same
 * `application/problem+json` body and code as every other refusal (fastify's default writes
 * its own JSON shape), logs it at debug (a network error or a load balancer's probe, most of
 * the time), then closes the connection, as Node does.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection is already gone; there is nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const { status, problem } = toProblemResponse(clientErrorOf(error))
  this.log.debug({ [LOG_FIELDS.code]: problem.code, err: error }, 'client error')
  if (socket.writable) {
    const body = JSON.stringify(problem)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    )
  }
  socket.destroy(error)
}

import { isAttestErrorCode, PROBLEM_CONTENT_TYPE, WIRE_PATHS } from '@k8s-attest/core'
import { parseFirstAnswer, type RawExchange, type RawTarget, tlsExchange } from './raw-connection.ts'

/**
 * Socket-level hostile input against a real TLS listener: what `inject()` cannot send
 * (a broken request line, headers over the limit, a body cut short by a closed connection,
 * conflicting framing). Each case gives back what went wrong, or `undefined`.
 */
export interface SocketCase {
  readonly name: string
  /** `bytes`: random bytes for the cases that take them. */
  run(target: RawTarget, bytes: Buffer): Promise<string | undefined>
}

const HOST = 'Host: localhost\r\n'

/**
 * The answer, if any, must be a problem with a catalogued code and no 5xx; `expectStatus`
 * also demands an answer with that status.
 */
function judge(exchange: RawExchange, expectStatus?: number): string | undefined {
  const answer = parseFirstAnswer(exchange.received)
  if (answer === undefined) {
    if (expectStatus !== undefined) return `no HTTP answer (expected ${expectStatus})`
    return undefined
  }
  if (expectStatus !== undefined && answer.status !== expectStatus)
    return `answered ${answer.status}, expected ${expectStatus}`
  if (answer.status >= 500) return `answered ${answer.status}`
  if (answer.status < 400) return undefined
  const contentType = answer.headers['content-type'] ?? ''
  if (!contentType.startsWith(PROBLEM_CONTENT_TYPE)) {
    return `${answer.status} with content-type "${contentType}" and body ${answer.body.slice(0, 200)}`
  }
  try {
    const problem = JSON.parse(answer.body) as { code?: unknown; status?: unknown }
    if (!isAttestErrorCode(problem.code))
      return `${answer.status}: code ${String(problem.code)} not in the catalogue`
    if (problem.status !== answer.status) return `${answer.status}: body status ${String(problem.status)}`
  } catch {
    return `${answer.status}: problem body is not JSON: ${answer.body.slice(0, 200)}`
  }
  return undefined
}

export const SOCKET_CASES: readonly SocketCase[] = [
  {
    name: 'garbage request line',
    run: async (target, bytes) =>
      judge(
        await tlsExchange(target, [
          Buffer.concat([Buffer.from('\x01\x02 '), bytes, Buffer.from('\r\n\r\n')]),
        ]),
        400,
      ),
  },
  {
    name: 'random bytes after the handshake',
    run: async (target, bytes) => judge(await tlsExchange(target, [bytes])),
  },
  {
    name: 'headers over the limit',
    run: async (target) =>
      judge(
        await tlsExchange(target, [
          `GET ${WIRE_PATHS.bundle} HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        ]),
        431,
      ),
  },
  {
    name: 'body shorter than Content-Length, then the client closes',
    run: async (target, bytes) =>
      judge(
        await tlsExchange(target, [
          `POST ${WIRE_PATHS.attest} HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: ${bytes.length + 500}\r\n\r\n`,
          bytes,
        ]),
      ),
  },
  {
    name: 'Content-Length and Transfer-Encoding together',
    run: async (target) =>
      judge(
        await tlsExchange(target, [
          `POST ${WIRE_PATHS.attest} HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        ]),
        400,
      ),
  },
  {
    name: 'broken chunked framing',
    run: async (target) =>
      judge(
        await tlsExchange(target, [
          `POST ${WIRE_PATHS.attest} HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        ]),
        400,
      ),
  },
  {
    name: 'request target that is not a path',
    run: async (target) =>
      judge(
        await tlsExchange(target, [`GET http://evil.example${WIRE_PATHS.bundle} HTTP/1.1\r\n${HOST}\r\n`]),
      ),
  },
  {
    name: 'pipelined requests',
    run: async (target) => {
      const request = `GET ${WIRE_PATHS.bundle} HTTP/1.1\r\n${HOST}\r\n`
      const answered = (received: Buffer) => received.toString('latin1').match(/HTTP\/1\.1 200 /g) ?? []
      const exchange = await tlsExchange(target, [request + request], {
        end: false,
        until: (received) => answered(received).length === 2,
      })
      const answers = answered(exchange.received)
      return answers.length === 2 ? undefined : `${answers.length} of 2 pipelined requests answered 200`
    },
  },
]

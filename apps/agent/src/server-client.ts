import { isIP } from 'node:net'
import {
  type AttestorType,
  isAttestErrorCode,
  PROBLEM_CONTENT_TYPE,
  type Secret,
  type SvidResponse,
  WIRE_PATHS,
} from '@k8s-attest/core'
import { SvidResponseSchema } from '@k8s-attest/core/wire'
import Schema from 'typebox/schema'
import { Agent, type Dispatcher, request } from 'undici'
import { AgentError, isAgentError, ServerProblemError } from './errors.ts'
import { checkServerSpiffeId, insecureBootstrapConnector } from './server-identity.ts'
import type { HeldSvid } from './svid-verify.ts'
import type { TrustBundle } from './trust-bundle.ts'

/** Options of {@link ServerClient}. */
export interface ServerClientOptions {
  readonly serverAddress: string
  readonly serverPort: number
  /** The server's SPIFFE ID, checked on every connection: `spiffe://<td>/spire/server`. */
  readonly serverId: string
  readonly connectTimeoutMs: number
  /** Headers timeout and body timeout of every request. */
  readonly requestTimeoutMs: number
  /** The clock, in milliseconds since the epoch, to turn an HTTP-date `Retry-After` into a delay. */
  readonly now: () => number
}

/** How the client verifies the server: against a bundle, or (bootstrap only) by SPIFFE ID alone. */
export type ServerTrust =
  | { readonly kind: 'bundle'; readonly bundle: TrustBundle }
  | { readonly kind: 'insecure' }

/** What an attestation sends, besides the CSR. */
export interface AttestationInput {
  readonly attestor: AttestorType
  readonly cluster: string
  /** The service account token, revealed only into the request body. */
  readonly token: Secret
  readonly csrPem: string
}

/** Largest response body read: SVID answers are a few KiB; anything near this is not our server. */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * TLS errors by which Node reports that the server's certificate did not verify against the
 * bundle: the server is not who it claims to be, which waiting will not fix.
 */
const CERTIFICATE_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/**
 * The agent's side of the wire contract (`@k8s-attest/core` `wire.ts`), over undici.
 *
 * One `Agent` (connection pool) serves attestations, verified against the trust bundle and the
 * server's SPIFFE ID; it is rebuilt only when the bundle changes. Renewals need the SVID as a
 * client certificate, so they use a second `Agent` rebuilt whenever the SVID changes. Both
 * have explicit timeouts (undici's defaults are 10 s to connect and 300 s for headers and
 * body) and disable TLS session resumption, so every connection is verified from scratch —
 * they are rare, one every few minutes at most.
 */
export class ServerClient {
  readonly #options: ServerClientOptions
  readonly #origin: string
  #trust: ServerTrust | undefined
  #attestAgent: Agent | undefined
  #renewSvid: HeldSvid | undefined
  #renewAgent: Agent | undefined
  /** Pools replaced by newer ones, closing in the background; {@link close} waits for them. */
  readonly #closing = new Set<Promise<void>>()
  /** Failures of background closes, reported by {@link close} rather than lost. */
  readonly #closeErrors: unknown[] = []

  constructor(options: ServerClientOptions) {
    this.#options = options
    const host = isIP(options.serverAddress) === 6 ? `[${options.serverAddress}]` : options.serverAddress
    this.#origin = `https://${host}:${options.serverPort}`
  }

  /** `https://<server_address>:<server_port>`, for logs. */
  get origin(): string {
    return this.#origin
  }

  /** Sets how the server is verified. Connections made with the previous trust are closed. */
  setTrust(trust: ServerTrust): void {
    this.#trust = trust
    this.#replaceAttestAgent(this.#buildAgent(trust, undefined))
    if (this.#renewSvid !== undefined) this.setSvid(this.#renewSvid)
  }

  /** Sets the SVID used as client certificate for renewals (or none). */
  setSvid(svid: HeldSvid | undefined): void {
    this.#renewSvid = svid
    const previous = this.#renewAgent
    this.#renewAgent =
      svid === undefined || this.#trust?.kind !== 'bundle' ? undefined : this.#buildAgent(this.#trust, svid)
    this.#retire(previous)
  }

  /**
   * `POST /v1/attest`.
   *
   * @throws {ServerProblemError} when the server refuses (its `code`, status and `Retry-After`).
   * @throws {AgentError} `ATT_ERR_SERVER_UNREACHABLE`, `ATT_ERR_SERVER_UNTRUSTED` or
   *   `ATT_ERR_SERVER_RESPONSE_INVALID`.
   */
  async attest(input: AttestationInput, signal?: AbortSignal): Promise<SvidResponse> {
    if (this.#attestAgent === undefined)
      throw new TypeError('ServerClient.setTrust() must be called before attest()')
    // The token is revealed here and nowhere else: straight into the request body.
    const body = JSON.stringify({
      attestation: {
        type: input.attestor,
        payload: { cluster: input.cluster, token: input.token.reveal() },
      },
      csr: input.csrPem,
    })
    return this.#post(this.#attestAgent, WIRE_PATHS.attest, body, signal)
  }

  /**
   * `POST /v1/renew` over mutual TLS with the SVID set by {@link setSvid}.
   *
   * @throws like {@link attest}.
   */
  async renew(csrPem: string, signal?: AbortSignal): Promise<SvidResponse> {
    if (this.#renewAgent === undefined) {
      throw new TypeError('ServerClient.setSvid() with a bundle trust must be called before renew()')
    }
    return this.#post(this.#renewAgent, WIRE_PATHS.renew, JSON.stringify({ csr: csrPem }), signal)
  }

  /**
   * Closes both connection pools, waiting for requests in flight (abort them with the signal
   * passed to {@link attest} / {@link renew} first to stop at once).
   */
  async close(): Promise<void> {
    this.#retire(this.#attestAgent)
    this.#retire(this.#renewAgent)
    this.#attestAgent = undefined
    this.#renewAgent = undefined
    await Promise.all(this.#closing)
    if (this.#closeErrors.length > 0) {
      throw new AggregateError(this.#closeErrors.splice(0), 'closing connections to the server failed')
    }
  }

  #replaceAttestAgent(agent: Agent): void {
    const previous = this.#attestAgent
    this.#attestAgent = agent
    this.#retire(previous)
  }

  /** Closes a replaced pool in the background: requests still running on it may finish. */
  #retire(agent: Agent | undefined): void {
    if (agent === undefined) return
    const closing: Promise<void> = agent.close().then(
      () => {
        this.#closing.delete(closing)
      },
      (error: unknown) => {
        this.#closing.delete(closing)
        this.#closeErrors.push(error)
      },
    )
    this.#closing.add(closing)
  }

  #buildAgent(trust: ServerTrust, clientSvid: HeldSvid | undefined): Agent {
    const { connectTimeoutMs, requestTimeoutMs, serverId } = this.#options
    const timeouts = {
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
      maxResponseSize: MAX_RESPONSE_BYTES,
    }
    if (trust.kind === 'insecure') {
      return new Agent({
        ...timeouts,
        connect: insecureBootstrapConnector({ expectedId: serverId, connectTimeoutMs }),
      })
    }
    return new Agent({
      ...timeouts,
      connect: {
        ca: [...trust.bundle.authoritiesPem],
        checkServerIdentity: checkServerSpiffeId(serverId),
        timeout: connectTimeoutMs,
        maxCachedSessions: 0,
        ...(clientSvid === undefined
          ? {}
          : {
              cert: clientSvid.chainPem.join('\n'),
              key: clientSvid.privateKey.export({ type: 'pkcs8', format: 'pem' }),
            }),
      },
    })
  }

  async #post(
    dispatcher: Dispatcher,
    path: string,
    body: string,
    signal?: AbortSignal,
  ): Promise<SvidResponse> {
    let response: Dispatcher.ResponseData
    let text: string
    try {
      response = await request(`${this.#origin}${path}`, {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: `application/json, ${PROBLEM_CONTENT_TYPE}` },
        body,
        ...(signal === undefined ? {} : { signal }),
      })
      text = await response.body.text()
    } catch (error) {
      throw this.#connectionError(path, error)
    }
    if (response.statusCode !== 200) throw this.#refusal(path, response, text)

    const parsed = parseJson(text)
    if (!parsed.ok)
      throw invalidResponse(`the answer to ${path} is not JSON`, response.statusCode, parsed.error)
    const document = parsed.value
    // Checked by typebox's interpreter, not its compiler: one answer per attestation, and not
    // loading the compiler keeps 1.5-2 MiB less resident in every agent (bench:agent-memory).
    if (!Schema.Check(SvidResponseSchema, document)) {
      const [, errors] = Schema.Errors(SvidResponseSchema, document)
      const first = errors[0]
      const where = first === undefined ? '' : ` (${first.instancePath || '/'}: ${first.message})`
      throw invalidResponse(`the answer to ${path} is not an SVID response${where}`, response.statusCode)
    }
    return document
  }

  /** A non-200 answer: a problem document with a known code, or else an invalid response. */
  #refusal(path: string, response: Dispatcher.ResponseData, text: string): Error {
    const status = response.statusCode
    const contentType = String(response.headers['content-type'] ?? '')
    const retryAfterHeader = parseRetryAfter(response.headers['retry-after'], this.#options.now())
    if (contentType.startsWith(PROBLEM_CONTENT_TYPE)) {
      const problem = parseProblem(text)
      if (problem !== undefined) {
        const retryAfterMs =
          retryAfterHeader ??
          (problem.retry_after_seconds === undefined ? undefined : problem.retry_after_seconds * 1000)
        return new ServerProblemError(problem.code, problem.detail, {
          httpStatus: status,
          retryAfterMs,
          ...optionalStrings(problem),
        })
      }
    }
    return invalidResponse(
      `${path} answered HTTP ${status} without a problem document (content-type ${JSON.stringify(contentType)})`,
      status,
      undefined,
      retryAfterHeader,
    )
  }

  #connectionError(path: string, error: unknown): Error {
    // Our own SPIFFE ID check fails the handshake with an AgentError, which undici passes on
    // as it is (or, depending on the path, as the cause of its own error).
    if (isAgentError(error)) return error
    if (error instanceof Error && isAgentError(error.cause)) return error.cause
    const code = (error as { code?: unknown }).code
    if (error instanceof Error && typeof code === 'string' && CERTIFICATE_ERROR_CODES.has(code)) {
      return new AgentError(
        'ATT_ERR_SERVER_UNTRUSTED',
        `the certificate of ${this.#origin} does not verify against the trust bundle (${code}); check trust_bundle_path / trust_bundle_url, or the bundle stored in data_dir`,
        { check: 'server_certificate_chain', value: code, cause: error },
      )
    }
    const reason = typeof code === 'string' ? `${code}: ${(error as Error).message}` : String(error)
    return new AgentError('ATT_ERR_SERVER_UNREACHABLE', `cannot reach ${this.#origin}${path} (${reason})`, {
      check: 'server_connection',
      value: this.#origin,
      cause: error,
    })
  }
}

interface ParsedProblem {
  readonly code: ServerProblemError['code']
  readonly detail: string
  readonly check?: unknown
  readonly cluster?: unknown
  readonly value?: unknown
  readonly expected?: unknown
  readonly retry_after_seconds?: number
}

/**
 * Reads a problem document leniently: only `code` must be one of core's codes; the rest is
 * optional context. A server newer than this agent may add fields, and refusing to understand
 * a refusal would only hide its reason.
 */
function parseProblem(text: string): ParsedProblem | undefined {
  const parsed = parseJson(text)
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return undefined
  const fields = parsed.value as Record<string, unknown>
  if (!isAttestErrorCode(fields.code)) return undefined
  const detail =
    typeof fields.detail === 'string'
      ? fields.detail
      : typeof fields.title === 'string'
        ? fields.title
        : fields.code
  const seconds = fields.retry_after_seconds
  return {
    ...fields,
    code: fields.code,
    detail,
    ...(typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 0
      ? { retry_after_seconds: seconds }
      : {}),
  }
}

/** `JSON.parse` as a result, for callers to whom "not JSON" is an answer rather than an exception. */
function parseJson(
  text: string,
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    return { ok: false, error }
  }
}

function optionalStrings(problem: ParsedProblem): {
  check?: string
  cluster?: string
  value?: string
  expected?: string
} {
  const out: { check?: string; cluster?: string; value?: string; expected?: string } = {}
  if (typeof problem.check === 'string') out.check = problem.check
  if (typeof problem.cluster === 'string') out.cluster = problem.cluster
  if (typeof problem.value === 'string') out.value = problem.value
  if (typeof problem.expected === 'string') out.expected = problem.expected
  return out
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) as milliseconds from `now`: delay-seconds or an HTTP-date.
 * Anything else is ignored (`undefined`): a malformed header must not stall the agent.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  if (Number.isNaN(date) || !/[A-Za-z]/.test(trimmed)) return undefined
  return Math.max(0, date - now)
}

function invalidResponse(
  message: string,
  status: number,
  cause?: unknown,
  retryAfterMs?: number,
): AgentError {
  return new AgentError('ATT_ERR_SERVER_RESPONSE_INVALID', message, {
    check: 'server_response',
    httpStatus: status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(cause === undefined ? {} : { cause }),
  })
}

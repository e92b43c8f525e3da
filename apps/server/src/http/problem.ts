import {
  AttestError,
  type AttestErrorCode,
  isAttestError,
  PROBLEM_CONTENT_TYPE,
  type Problem,
} from '@k8s-attest/core'
import { CsrError } from '../ca/ca-errors.ts'
import { isDatastoreError } from '../datastore/datastore-error.ts'
import { titleOf } from './problem-titles.ts'
import { statusOf } from './status-by-code.ts'

export { PROBLEM_CONTENT_TYPE }

/**
 * How long a client should wait before retrying a 502/503 when the cause named no time of its
 * own: long enough for an API server blip or a restarting database, short enough for an agent
 * starting up.
 */
export const DEFAULT_RETRY_AFTER_SECONDS = 5

/**
 * Longest `value` or `expected` a refusal echoes, in characters. They quote unverified input
 * (a token's `sub` claim, a path parameter) that may be as long as the request allows; past
 * this, the answer and the log line carry the start and the full length.
 */
export const MAX_ECHOED_VALUE_CHARS = 256
/** Longest `detail` (the error message, which may quote the same input), in characters. */
export const MAX_DETAIL_CHARS = 1024

/**
 * `text` when it is at most `max` characters, else its first `max` characters followed by
 * `…` and the full length, so a reader can tell it was cut.
 */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}

/** A refusal ready to send: status, body, and `Retry-After` when waiting helps. */
export interface ProblemResponse {
  readonly status: number
  readonly problem: Problem
  /** Seconds, for the `Retry-After` header; present for 429, 502 and 503. */
  readonly retryAfterSeconds?: number
  /** The error as classified, for the one log line about it. */
  readonly error: AttestError
}

/** 5xx answers say what kind of failure it was, never its internals; those go to the log. */
const GENERIC_DETAIL: Partial<Record<AttestErrorCode, string>> = {
  ATT_ERR_KUBE_API_UNAVAILABLE: 'the Kubernetes API is unavailable; try again later',
  ATT_ERR_KUBE_API_FAILED:
    'the Kubernetes API refused the server; an operator must fix the server configuration',
  ATT_ERR_TOKEN_REVIEW_INVALID: 'the Kubernetes API returned a malformed TokenReview',
  ATT_ERR_NOT_READY: 'the server is not ready; try again later',
  ATT_ERR_INTERNAL: 'internal server error',
}

/**
 * Turns anything thrown while serving a request into an RFC 9457 problem with its stable code.
 * Known errors keep their code and details; datastore and CSR errors are translated; anything
 * else is `ATT_ERR_INTERNAL`. The status always comes from `STATUS_BY_CODE`, the title from
 * `TITLE_BY_CODE`; echoed input is cut to {@link MAX_ECHOED_VALUE_CHARS} / {@link MAX_DETAIL_CHARS}.
 */
export function toProblemResponse(thrown: unknown): ProblemResponse {
  const error = classify(thrown)
  const status = statusOf(error.code)
  const { check, cluster, value, expected, retryAfterSeconds } = error.details
  const retry =
    status === 429 || status === 502 || status === 503
      ? (retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS)
      : undefined
  const problem: Problem = {
    type: `urn:k8s-attest:error:${error.code}`,
    title: titleOf(error.code),
    status,
    detail:
      status >= 500
        ? (GENERIC_DETAIL[error.code] ?? 'internal server error')
        : bounded(error.message, MAX_DETAIL_CHARS),
    code: error.code,
    ...(check === undefined ? {} : { check }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(value === undefined || status >= 500 ? {} : { value: bounded(value, MAX_ECHOED_VALUE_CHARS) }),
    ...(expected === undefined || status >= 500
      ? {}
      : { expected: bounded(expected, MAX_ECHOED_VALUE_CHARS) }),
    ...(retry === undefined ? {} : { retry_after_seconds: retry }),
  }
  return { status, problem, error, ...(retry === undefined ? {} : { retryAfterSeconds: retry }) }
}

function classify(thrown: unknown): AttestError {
  // Before isAttestError: a CsrError carries the same code but not the details shape.
  if (thrown instanceof CsrError) {
    return new AttestError('ATT_ERR_CSR_INVALID', thrown.message, {
      check: `csr_${thrown.check.replace('-', '_')}`,
      expected: thrown.expected,
      cause: thrown,
    })
  }
  if (isAttestError(thrown) && typeof thrown.details === 'object' && thrown.details !== null) return thrown
  if (isDatastoreError(thrown)) {
    if (thrown.code === 'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID') {
      return new AttestError('ATT_ERR_BAD_REQUEST', thrown.message, { check: 'page_token', cause: thrown })
    }
    const transient = [
      'ATT_ERR_DATASTORE_UNREACHABLE',
      'ATT_ERR_DATASTORE_TIMEOUT',
      'ATT_ERR_DATASTORE_CLOSED',
    ]
    return new AttestError(
      transient.includes(thrown.code) ? 'ATT_ERR_NOT_READY' : 'ATT_ERR_INTERNAL',
      thrown.message,
      {
        check: 'datastore',
        cause: thrown,
      },
    )
  }
  const fastifyError = thrown as {
    code?: unknown
    statusCode?: unknown
    validation?: unknown
    message?: unknown
  }
  if (thrown instanceof Error && fastifyError.validation !== undefined) {
    const { field, expected } = validationFailure(thrown)
    return new AttestError('ATT_ERR_BAD_REQUEST', `invalid request: ${thrown.message}`, {
      check: 'schema',
      ...(field === undefined ? {} : { value: field }),
      ...(expected === undefined ? {} : { expected }),
      cause: thrown,
    })
  }
  if (thrown instanceof Error && fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new AttestError('ATT_ERR_PAYLOAD_TOO_LARGE', 'the request body is too large', {
      check: 'body_size',
      cause: thrown,
    })
  }
  if (thrown instanceof Error && fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new AttestError('ATT_ERR_UNSUPPORTED_MEDIA_TYPE', `invalid request: ${thrown.message}`, {
      check: 'content_type',
      expected: 'application/json',
      cause: thrown,
    })
  }
  // Fastify's own 4xx (unparsable JSON, empty body): the client's mistake.
  if (
    thrown instanceof Error &&
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode < 500
  ) {
    return new AttestError('ATT_ERR_BAD_REQUEST', `invalid request: ${thrown.message}`, {
      check: typeof fastifyError.code === 'string' ? fastifyError.code : 'request',
      cause: thrown,
    })
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown)
  return new AttestError('ATT_ERR_INTERNAL', message, { cause: thrown })
}

/**
 * The field a schema validation error is about, e.g. `body/attestation/payload/token`, and,
 * for a value of the wrong JSON type, the type the schema wants (`string`).
 */
function validationFailure(error: Error): { field?: string; expected?: string } {
  const { validation, validationContext } = error as {
    validation?: ReadonlyArray<{
      keyword?: string
      instancePath?: string
      params?: { missingProperty?: string; additionalProperty?: string; type?: unknown }
    }>
    validationContext?: string
  }
  const first = validation?.[0]
  if (first === undefined) return {}
  const extra = first.params?.missingProperty ?? first.params?.additionalProperty
  const field = `${validationContext ?? 'request'}${first.instancePath ?? ''}${extra === undefined ? '' : `/${extra}`}`
  const type = first.keyword === 'type' ? first.params?.type : undefined
  return { field, ...(type === undefined ? {} : { expected: String(type) }) }
}

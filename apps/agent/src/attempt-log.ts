import { isAttestError } from '@k8s-attest/core'
import type { Logger } from 'pino'
import { isAgentError } from './errors.ts'
import type { ClassifiedFailure } from './failure.ts'
import { LOG_FIELDS as F } from './logger.ts'
import { type RenewalMethod, rotationTime } from './rotation.ts'
import type { HeldSvid } from './svid-verify.ts'

/**
 * What the agent's log lines say about an SVID and about a failed attempt: the same fields,
 * under the same names, whichever line writes them.
 */

/** An SVID's identity, expiry and rotation time. */
export function svidFields(svid: HeldSvid): Record<string, unknown> {
  return {
    [F.spiffeId]: svid.spiffeId,
    [F.serial]: svid.serialNumber,
    [F.expiresAt]: svid.notAfter.toISOString(),
    [F.rotateAt]: new Date(rotationTime(svid)).toISOString(),
  }
}

/** Where a failure stands in the agent's retries. */
export interface FailureContext {
  /** Failures in a row, this one included. */
  readonly attempt: number
  /** The wait before the next attempt; absent when there is none. */
  readonly retryInMs?: number
  /** The SPIFFE ID the agent holds, if any. */
  readonly spiffeId?: string
}

/**
 * A failure's code, source and kind, the check that failed with its value and what was
 * expected (from the error's details), and where it stands in the retries.
 */
export function failureFields(
  failure: ClassifiedFailure,
  error: unknown,
  context: FailureContext,
): Record<string, unknown> {
  const details = isAttestError(error) || isAgentError(error) ? error.details : {}
  return {
    [F.code]: failure.code,
    [F.failureSource]: failure.source,
    [F.failureKind]: failure.kind,
    [F.attempt]: context.attempt,
    ...(failure.httpStatus === undefined ? {} : { [F.httpStatus]: failure.httpStatus }),
    ...(details.check === undefined ? {} : { [F.check]: details.check }),
    ...(details.value === undefined ? {} : { [F.value]: details.value }),
    ...(details.expected === undefined ? {} : { [F.expected]: details.expected }),
    ...('cluster' in details && details.cluster !== undefined ? { [F.cluster]: details.cluster } : {}),
    ...(context.retryInMs === undefined ? {} : { [F.retryInMs]: context.retryInMs }),
    ...(context.spiffeId === undefined ? {} : { [F.spiffeId]: context.spiffeId }),
    ...causeField(error),
  }
}

/**
 * What the error was caused by (the SyntaxError behind "the answer is not JSON", OpenSSL's
 * reason behind "cannot be parsed"), when its own message does not already say it.
 */
function causeField(error: unknown): Record<string, string> {
  const cause = (error as { cause?: unknown } | null)?.cause
  if (!(cause instanceof Error) || cause.message === '') return {}
  if (error instanceof Error && error.message.includes(cause.message)) return {}
  return { [F.cause]: cause.message }
}

/** A failed attempt that will be retried. */
export interface RetriedAttempt {
  readonly failure: ClassifiedFailure
  readonly error: unknown
  /** What was tried last: a renewal, or an attestation (possibly after a renewal was declined). */
  readonly method: RenewalMethod
}

/**
 * Logs a failed attempt and its retry: a warning when it is transient, an error naming the
 * backoff cap when waiting will not fix it (`retryMaxIntervalMs`).
 */
export function logRetry(
  logger: Logger,
  { failure, error, method }: RetriedAttempt,
  context: FailureContext & { readonly retryInMs: number; readonly retryMaxIntervalMs: number },
): void {
  const fields = { ...failureFields(failure, error, context), [F.method]: method }
  const what = method === 'renew' ? 'renewal' : 'attestation'
  const message = error instanceof Error ? error.message : String(error)
  if (failure.kind === 'transient') {
    logger.warn(fields, `${what} failed, will retry (transient: ${message})`)
  } else {
    logger.error(
      fields,
      `${what} refused (permanent: ${message}); this will keep failing until the cause is fixed, retrying every ~${Math.round(context.retryMaxIntervalMs / 1000)}s`,
    )
  }
}

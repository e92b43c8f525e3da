import { goQuote } from './go-format.ts'
import type { JsonObject } from './json.ts'

/**
 * Kubernetes `Status` objects and the one error class that carries them.
 *
 * Every refusal of the test API, over HTTP or from the programmatic API, is a
 * {@link KubeStatusError} whose `status` is the exact `Status` body
 * kube-apiserver would send (same message text, reason, details and field
 * order as `k8s.io/apimachinery/pkg/api/errors`), and whose `code` is a
 * stable `ATT_ERR_KUBE_TEST_*` string for callers to branch on.
 */

/** The stable codes of {@link KubeStatusError}, one per Kubernetes `StatusReason` used here. */
export const KUBE_TEST_ERROR_CODES = [
  'ATT_ERR_KUBE_TEST_BAD_REQUEST',
  'ATT_ERR_KUBE_TEST_UNAUTHORIZED',
  'ATT_ERR_KUBE_TEST_FORBIDDEN',
  'ATT_ERR_KUBE_TEST_NOT_FOUND',
  'ATT_ERR_KUBE_TEST_METHOD_NOT_ALLOWED',
  'ATT_ERR_KUBE_TEST_NOT_ACCEPTABLE',
  'ATT_ERR_KUBE_TEST_ALREADY_EXISTS',
  'ATT_ERR_KUBE_TEST_CONFLICT',
  'ATT_ERR_KUBE_TEST_EXPIRED',
  'ATT_ERR_KUBE_TEST_UNSUPPORTED_MEDIA_TYPE',
  'ATT_ERR_KUBE_TEST_INVALID',
  'ATT_ERR_KUBE_TEST_REQUEST_TOO_LARGE',
  'ATT_ERR_KUBE_TEST_TOO_MANY_REQUESTS',
  'ATT_ERR_KUBE_TEST_INTERNAL',
  'ATT_ERR_KUBE_TEST_SERVICE_UNAVAILABLE',
] as const

/** One of {@link KUBE_TEST_ERROR_CODES}. */
export type KubeTestErrorCode = (typeof KUBE_TEST_ERROR_CODES)[number]

/** `metav1.StatusCause`. */
export interface StatusCause {
  readonly reason?: string
  readonly message?: string
  readonly field?: string
}

/** `metav1.StatusDetails`; every field optional, as kube-apiserver omits empty ones. */
export interface StatusDetails {
  readonly name?: string
  readonly group?: string
  readonly kind?: string
  readonly uid?: string
  readonly causes?: readonly StatusCause[]
  readonly retryAfterSeconds?: number
}

/** The parts of a failure `Status` that vary. */
export interface FailureStatus {
  readonly code: number
  readonly reason: string
  readonly message: string
  /** `undefined` omits the key; `{}` writes `"details":{}` as kube-apiserver does for some errors. */
  readonly details?: StatusDetails
}

const CODE_BY_REASON: Readonly<Record<string, KubeTestErrorCode>> = {
  BadRequest: 'ATT_ERR_KUBE_TEST_BAD_REQUEST',
  Unauthorized: 'ATT_ERR_KUBE_TEST_UNAUTHORIZED',
  Forbidden: 'ATT_ERR_KUBE_TEST_FORBIDDEN',
  NotFound: 'ATT_ERR_KUBE_TEST_NOT_FOUND',
  MethodNotAllowed: 'ATT_ERR_KUBE_TEST_METHOD_NOT_ALLOWED',
  NotAcceptable: 'ATT_ERR_KUBE_TEST_NOT_ACCEPTABLE',
  AlreadyExists: 'ATT_ERR_KUBE_TEST_ALREADY_EXISTS',
  Conflict: 'ATT_ERR_KUBE_TEST_CONFLICT',
  Expired: 'ATT_ERR_KUBE_TEST_EXPIRED',
  UnsupportedMediaType: 'ATT_ERR_KUBE_TEST_UNSUPPORTED_MEDIA_TYPE',
  Invalid: 'ATT_ERR_KUBE_TEST_INVALID',
  RequestEntityTooLarge: 'ATT_ERR_KUBE_TEST_REQUEST_TOO_LARGE',
  TooManyRequests: 'ATT_ERR_KUBE_TEST_TOO_MANY_REQUESTS',
  InternalError: 'ATT_ERR_KUBE_TEST_INTERNAL',
  ServiceUnavailable: 'ATT_ERR_KUBE_TEST_SERVICE_UNAVAILABLE',
}

/**
 * A refusal with the `Status` body kube-apiserver would send. Over HTTP the
 * server writes {@link KubeStatusError.toJSON}; programmatic callers branch
 * on {@link KubeStatusError.code}.
 */
export class KubeStatusError extends Error {
  readonly code: KubeTestErrorCode
  /** The HTTP status code (also `status.code`). */
  readonly httpStatus: number
  readonly reason: string
  readonly details: StatusDetails | undefined

  constructor(failure: FailureStatus, options?: { readonly cause?: unknown }) {
    super(failure.message, options)
    this.name = 'KubeStatusError'
    this.httpStatus = failure.code
    this.reason = failure.reason
    this.details = failure.details
    const code = CODE_BY_REASON[failure.reason]
    if (code === undefined)
      throw new TypeError(`no error code is defined for status reason "${failure.reason}"`)
    this.code = code
  }

  /** The `Status` object in kube-apiserver's field order. */
  toJSON(): JsonObject {
    return failureStatusBody(this)
  }
}

/** Whether `value` is a {@link KubeStatusError}, judged by shape (works across package copies). */
export function isKubeStatusError(value: unknown): value is KubeStatusError {
  if (!(value instanceof Error)) return false
  const code: unknown = (value as { code?: unknown }).code
  return typeof code === 'string' && (KUBE_TEST_ERROR_CODES as readonly string[]).includes(code)
}

function failureStatusBody(failure: {
  readonly httpStatus: number
  readonly reason: string
  readonly message: string
  readonly details: StatusDetails | undefined
}): JsonObject {
  const body: JsonObject = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: failure.message,
    reason: failure.reason,
  }
  if (failure.details !== undefined) body.details = detailsBody(failure.details)
  body.code = failure.httpStatus
  return body
}

function detailsBody(details: StatusDetails): JsonObject {
  const body: JsonObject = {}
  if (details.name) body.name = details.name
  if (details.group) body.group = details.group
  if (details.kind) body.kind = details.kind
  if (details.uid) body.uid = details.uid
  if (details.causes !== undefined && details.causes.length > 0) {
    body.causes = details.causes.map((cause) => {
      const entry: JsonObject = {}
      if (cause.reason) entry.reason = cause.reason
      if (cause.message) entry.message = cause.message
      if (cause.field) entry.field = cause.field
      return entry
    })
  }
  if (details.retryAfterSeconds) body.retryAfterSeconds = details.retryAfterSeconds
  return body
}

/** A `Status` of success, as returned when deleting nodes, secrets and RBAC objects. */
export function successStatus(details: StatusDetails): JsonObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: detailsBody(details) }
}

/** `schema.GroupResource`: the API group ('' for core) and the plural resource name. */
export interface GroupResource {
  readonly group: string
  readonly resource: string
}

/** `GroupResource.String()`: `pods`, `tokenreviews.authentication.k8s.io`. */
export function groupResourceString(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`
}

/** `errors.NewBadRequest`. */
export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError({ code: 400, reason: 'BadRequest', message })
}

/** `errors.NewUnauthorized("Unauthorized")`, the body of every 401. */
export function unauthorized(): KubeStatusError {
  return new KubeStatusError({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' })
}

/**
 * `errors.NewForbidden`: `pods "p" is forbidden: <reason>`; without a
 * resource (non-resource paths) just `forbidden: <reason>` with empty details.
 */
export function forbidden(gr: GroupResource | undefined, name: string, reason: string): KubeStatusError {
  let message: string
  if (gr === undefined) message = `forbidden: ${reason}`
  else if (name === '') message = `${groupResourceString(gr)} is forbidden: ${reason}`
  else message = `${groupResourceString(gr)} ${goQuote(name)} is forbidden: ${reason}`
  return new KubeStatusError({
    code: 403,
    reason: 'Forbidden',
    message,
    details: gr === undefined ? {} : { name, group: gr.group, kind: gr.resource },
  })
}

/** `errors.NewNotFound`: `pods "p" not found`. */
export function notFound(gr: GroupResource, name: string): KubeStatusError {
  return new KubeStatusError({
    code: 404,
    reason: 'NotFound',
    message: `${groupResourceString(gr)} ${goQuote(name)} not found`,
    details: { name, group: gr.group, kind: gr.resource },
  })
}

/** The 404 kube-apiserver sends for an API path it does not serve. */
export function resourceNotServed(): KubeStatusError {
  return new KubeStatusError({
    code: 404,
    reason: 'NotFound',
    message: 'the server could not find the requested resource',
    details: {},
  })
}

/** `errors.NewAlreadyExists`: `pods "p" already exists`. */
export function alreadyExists(gr: GroupResource, name: string): KubeStatusError {
  return new KubeStatusError({
    code: 409,
    reason: 'AlreadyExists',
    message: `${groupResourceString(gr)} ${goQuote(name)} already exists`,
    details: { name, group: gr.group, kind: gr.resource },
  })
}

/** `errors.NewConflict`: `Operation cannot be fulfilled on pods "p": <reason>`. */
export function conflict(gr: GroupResource, name: string, reason: string): KubeStatusError {
  return new KubeStatusError({
    code: 409,
    reason: 'Conflict',
    message: `Operation cannot be fulfilled on ${groupResourceString(gr)} ${goQuote(name)}: ${reason}`,
    details: { name, group: gr.group, kind: gr.resource },
  })
}

/** The `Conflict` of an update or delete whose `resourceVersion` is stale. */
export function staleResourceVersion(gr: GroupResource, name: string): KubeStatusError {
  return conflict(
    gr,
    name,
    'the object has been modified; please apply your changes to the latest version and try again',
  )
}

/** The kinds of `field.Error`, with the text Kubernetes prints for each. */
export type FieldErrorType =
  | 'Invalid value'
  | 'Required value'
  | 'Forbidden'
  | 'Unsupported value'
  | 'Duplicate value'
  | 'Too long'

const CAUSE_BY_FIELD_ERROR: Readonly<Record<FieldErrorType, string>> = {
  'Invalid value': 'FieldValueInvalid',
  'Required value': 'FieldValueRequired',
  Forbidden: 'FieldValueForbidden',
  'Unsupported value': 'FieldValueNotSupported',
  'Duplicate value': 'FieldValueDuplicate',
  'Too long': 'FieldValueTooLong',
}

/** A `field.Error`: which field, what kind of problem, the bad value, and why. */
export interface FieldError {
  readonly field: string
  readonly type: FieldErrorType
  /** The offending value, printed as Go's field errors print it; omit for Required/Forbidden/Too long. */
  readonly value?: string | number | boolean | null
  /**
   * The offending value already in Go syntax, written as is: what `%#v`
   * prints for a struct or a slice (`rbac.RoleRef{APIGroup:"…", …}`,
   * `[]string{"/healthz"}`), which is how `ErrorBody` shows such values.
   */
  readonly goValue?: string
  readonly detail?: string
}

/**
 * Error types whose body never shows the value: `field.TooLong` leaves it out
 * (`metadata.annotations: Too long: must have at most 262144 bytes`).
 */
const VALUELESS_TYPES: ReadonlySet<FieldErrorType> = new Set(['Required value', 'Forbidden', 'Too long'])

/** `field.Error.ErrorBody()`: `Invalid value: 60: may not specify …`. */
export function fieldErrorBody(error: FieldError): string {
  let body: string = error.type
  if (!VALUELESS_TYPES.has(error.type)) {
    const value = error.value === undefined || error.value === null ? 'null' : error.value
    body += `: ${error.goValue ?? (typeof value === 'string' ? goQuote(value) : String(value))}`
  }
  return error.detail ? `${body}: ${error.detail}` : body
}

/**
 * `errors.NewInvalid`: `Pod "p" is invalid: spec.containers: Required value`
 * (several errors print as `[a, b]`), with one cause per field error.
 */
export function invalid(
  groupKind: { readonly group: string; readonly kind: string },
  name: string,
  errors: readonly FieldError[],
): KubeStatusError {
  if (errors.length === 0) throw new TypeError('invalid() needs at least one field error')
  const texts = errors.map((error) => `${error.field}: ${fieldErrorBody(error)}`)
  const aggregate = texts.length === 1 ? (texts[0] as string) : `[${texts.join(', ')}]`
  const qualifiedKind = groupKind.group === '' ? groupKind.kind : `${groupKind.kind}.${groupKind.group}`
  return new KubeStatusError({
    code: 422,
    reason: 'Invalid',
    message: `${qualifiedKind} ${goQuote(name)} is invalid: ${aggregate}`,
    details: {
      name,
      group: groupKind.group,
      kind: groupKind.kind,
      causes: errors.map((error) => ({
        reason: CAUSE_BY_FIELD_ERROR[error.type],
        message: fieldErrorBody(error),
        field: error.field,
      })),
    },
  })
}

/** The 405 for a verb a resource does not serve. */
export function methodNotAllowed(): KubeStatusError {
  return new KubeStatusError({
    code: 405,
    reason: 'MethodNotAllowed',
    message: 'the server does not allow this method on the requested resource',
    details: {},
  })
}

/** The 406 of a request whose `Accept` header names none of `available`. */
export function notAcceptable(available: readonly string[]): KubeStatusError {
  return new KubeStatusError({
    code: 406,
    reason: 'NotAcceptable',
    message: `406: Not Acceptable\n\nAvailable representations: ${available.join(', ')}`,
    details: {},
  })
}

/** The 415 of a body in a media type the endpoint does not read. */
export function unsupportedMediaType(accepted: readonly string[]): KubeStatusError {
  return new KubeStatusError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  })
}

/** `errors.NewResourceExpired`: 410 Gone, as a watch from a compacted resourceVersion gets. */
export function resourceExpired(message: string): KubeStatusError {
  return new KubeStatusError({ code: 410, reason: 'Expired', message })
}

/** The 413 of a request body over kube-apiserver's 3 MiB limit. */
export function requestEntityTooLarge(): KubeStatusError {
  return new KubeStatusError({
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: 'Request entity too large: limit is 3145728',
  })
}

/** `errors.NewServiceUnavailable`. */
export function serviceUnavailable(message: string): KubeStatusError {
  return new KubeStatusError({ code: 503, reason: 'ServiceUnavailable', message })
}

/** `errors.NewInternalError`: `Internal error occurred: <message>`. */
export function internalError(message: string): KubeStatusError {
  return new KubeStatusError({
    code: 500,
    reason: 'InternalError',
    message: `Internal error occurred: ${message}`,
    details: { causes: [{ message }] },
  })
}

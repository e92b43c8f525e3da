import { isJsonObject, type JsonObject, type JsonValue } from './json.ts'
import { canonicalize, findDecodeMismatch, type StructSchema } from './schema.ts'
import { badRequest } from './status.ts'

/**
 * Request bodies, decoded as kube-apiserver decodes them: JSON into a Go
 * type, with its 400 texts for bodies that are not JSON, not an object, or
 * have a field of the wrong type.
 */

const TYPE_META_GO_TYPE =
  'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'

/** Go's wording of a JSON syntax error, from JavaScript's. */
function goSyntaxError(raw: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (raw.trim() === '' || /unexpected end/i.test(message)) return 'unexpected end of JSON input'
  const position = /position (\d+)/.exec(message)?.[1]
  const offset = position === undefined ? raw.search(/\S/) : Number(position)
  const character = raw[offset] ?? ''
  return `invalid character '${character}' looking for beginning of value`
}

/** Parses a request body as JSON; a syntax error is a 400 worded like kube-apiserver's. */
export function parseJsonBody(raw: string): JsonValue {
  try {
    return JSON.parse(raw) as JsonValue
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${goSyntaxError(raw, error)}`)
  }
}

function jsonTypeName(value: JsonValue): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  return typeof value === 'boolean' ? 'bool' : typeof value
}

/** What a body must decode into. */
export interface DecodeTarget {
  readonly kind: string
  /** `v1`, `authentication.k8s.io/v1`. */
  readonly apiVersion: string
  readonly schema: StructSchema
}

/**
 * Decodes `body` into `target`'s type: checks its shape, `kind` and
 * `apiVersion`, and returns it canonicalized (Go field order, zero values,
 * `kind`/`apiVersion` set).
 */
export function decodeObject(body: JsonValue, target: DecodeTarget): JsonObject {
  if (!isJsonObject(body)) {
    throw badRequest(
      `couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonTypeName(body)} into Go value of type ${TYPE_META_GO_TYPE}`,
    )
  }
  const version = target.apiVersion.split('/').at(-1) ?? target.apiVersion
  const apiVersion = body.apiVersion
  if (typeof apiVersion === 'string' && apiVersion !== '' && apiVersion !== target.apiVersion) {
    throw badRequest(
      `the API version in the data (${apiVersion}) does not match the expected API version (${target.apiVersion})`,
    )
  }
  const kind = body.kind
  if (typeof kind === 'string' && kind !== '' && kind !== target.kind) {
    throw badRequest(
      `${target.kind} in version "${version}" cannot be handled as a ${target.kind}: the object provided is unrecognized (must be of type ${target.kind}): ${kind}`,
    )
  }
  const mismatch = findDecodeMismatch(target.schema, body, target.kind)
  if (mismatch !== undefined) {
    throw badRequest(
      `${target.kind} in version "${version}" cannot be handled as a ${target.kind}: ${mismatch.message}`,
    )
  }
  const decoded = canonicalize(target.schema, { ...body, kind: target.kind, apiVersion: target.apiVersion })
  if (!isJsonObject(decoded)) throw new TypeError('canonicalizing an object must give an object')
  return decoded
}

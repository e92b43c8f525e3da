import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { JsonValue } from './json.ts'
import { type KubeStatusError, requestEntityTooLarge, unsupportedMediaType } from './status.ts'

/**
 * Reading requests and writing responses the way kube-apiserver does:
 * API objects as compact JSON ending in a newline, the headers it sets,
 * its 3 MiB body limit.
 */

/** kube-apiserver's limit on request bodies. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024

/** How to write a JSON response. */
export interface JsonResponseOptions {
  /** Indent with two spaces (as `/version` is written). Default false. */
  readonly pretty?: boolean
  /** End with `\n` (as the API object encoder does). Default true. */
  readonly trailingNewline?: boolean
  /** Default `application/json`. */
  readonly contentType?: string
  readonly headers?: Readonly<Record<string, string>>
}

function baseHeaders(contentType: string): Record<string, string> {
  return { 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private', 'Content-Type': contentType }
}

/** Writes `body` as JSON with `statusCode`. */
export function writeJson(
  res: ServerResponse,
  statusCode: number,
  body: JsonValue,
  options: JsonResponseOptions = {},
): void {
  const text = options.pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body)
  const payload = options.trailingNewline === false ? text : `${text}\n`
  res.writeHead(statusCode, {
    ...baseHeaders(options.contentType ?? 'application/json'),
    ...options.headers,
    'Content-Length': String(Buffer.byteLength(payload)),
  })
  res.end(payload)
}

/** The media types kube-apiserver's API serializers can write. */
const SERIALIZER_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']

/**
 * Writes a refusal as its `Status` object. When the request's `Accept`
 * header names no media type kube-apiserver serializes (say
 * `application/jwk-set+json`), kube-apiserver falls back to `WriteRawJSON`:
 * indented, without the trailing newline; so does this.
 */
export function writeStatusError(
  res: ServerResponse,
  error: KubeStatusError,
  acceptHeader: string | undefined,
  headers?: Readonly<Record<string, string>>,
): void {
  const negotiable = SERIALIZER_MEDIA_TYPES.some((mediaType) => accepts(acceptHeader, mediaType))
  writeJson(res, error.httpStatus, error.toJSON(), {
    ...(negotiable ? {} : { pretty: true, trailingNewline: false }),
    ...(headers === undefined ? {} : { headers }),
  })
}

/** Writes plain text (health checks, the 404 of unknown paths, the overload filters' 429). */
export function writeText(
  res: ServerResponse,
  statusCode: number,
  text: string,
  headers?: Readonly<Record<string, string>>,
): void {
  res.writeHead(statusCode, {
    ...baseHeaders('text/plain; charset=utf-8'),
    ...headers,
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': String(Buffer.byteLength(text)),
  })
  res.end(text)
}

/** Starts a streamed JSON response (a watch): headers go out at once, events follow. */
export function startStream(res: ServerResponse): void {
  res.writeHead(200, baseHeaders('application/json'))
  res.flushHeaders()
}

/** Reads the whole body as UTF-8, refusing more than {@link MAX_BODY_BYTES}. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > MAX_BODY_BYTES) throw requestEntityTooLarge()
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The media types a create or update body may have here. */
const BODY_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']

/** Refuses create/update bodies that are not JSON (a missing Content-Type counts as JSON). */
export function requireJsonBody(contentType: string | undefined): void {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (mediaType !== '' && mediaType !== 'application/json' && mediaType !== '*/*') {
    throw unsupportedMediaType(BODY_MEDIA_TYPES)
  }
}

/**
 * Whether an `Accept` header admits `mediaType`: no header, the any-type
 * range, the `type/*` range or the type itself (parameters and q-values are
 * not weighed).
 */
export function accepts(acceptHeader: string | undefined, mediaType: string): boolean {
  if (acceptHeader === undefined || acceptHeader.trim() === '') return true
  const [type] = mediaType.split('/')
  return acceptHeader.split(',').some((range) => {
    const candidate = range.split(';')[0]?.trim().toLowerCase() ?? ''
    return candidate === '*/*' || candidate === mediaType || candidate === `${type}/*`
  })
}

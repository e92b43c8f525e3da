import { request } from 'node:https'

/**
 * A minimal HTTPS client for tests that must see exactly what the server
 * sends (status, headers, raw bytes), which API clients hide.
 */

/** One request. */
export interface HttpRequest {
  readonly method: string
  /** Path and query. */
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

/** One answer, unparsed. */
export interface HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly raw: string
}

/** Sends `req` to `baseUrl` trusting only `caPem`; a fresh connection every time. */
export function send(baseUrl: string, caPem: string, req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(req.path, baseUrl)
    // Node sends a DELETE body without framing unless told its length.
    const length = req.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(req.body)) }
    const outgoing = request(
      target,
      { method: req.method, ca: caPem, agent: false, headers: { ...req.headers, ...length } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            raw: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(req.body)
  })
}

/** An open streamed response (a watch). */
export interface OpenStream {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Resolves with the whole body once the server ends the stream. */
  readonly done: Promise<string>
}

/** Opens `req` and resolves as soon as the response headers arrive. */
export function openStream(baseUrl: string, caPem: string, req: HttpRequest): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(req.path, baseUrl),
      { method: req.method, ca: caPem, agent: false, headers: { ...req.headers } },
      (res) => {
        const chunks: Buffer[] = []
        const done = new Promise<string>((resolveBody, rejectBody) => {
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')))
          res.on('error', rejectBody)
        })
        resolve({ status: res.statusCode ?? 0, headers: res.headers, done })
      },
    )
    outgoing.on('error', reject)
    outgoing.end(req.body)
  })
}

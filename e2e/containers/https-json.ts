import type { IncomingHttpHeaders } from 'node:http'
import { request } from 'node:https'

/** Where an HTTPS request goes and how the server is verified. */
export interface HttpsTarget {
  readonly url: string
  /** CA certificates to verify the server with (PEM). */
  readonly ca: string
  /** The name the server's certificate is checked against, when not the URL's host. */
  readonly serverName?: string
}

/** One HTTPS request with a JSON answer. */
export interface JsonRequest extends HttpsTarget {
  readonly method?: 'GET' | 'POST'
  readonly body?: unknown
  readonly bearerToken: string
}

/** One HTTPS request as a browser sends it: any body, any headers, the answer whatever it is. */
export interface HttpsRequest extends HttpsTarget {
  readonly method?: 'GET' | 'POST'
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

/** An answer of any status. */
export interface HttpsAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
}

/** Sends `req` and resolves with the parsed body of a 2xx answer; rejects with status and body otherwise. */
export async function requestJson(req: JsonRequest): Promise<unknown> {
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body)
  const answer = await httpsRequest({
    url: req.url,
    ca: req.ca,
    ...(req.serverName === undefined ? {} : { serverName: req.serverName }),
    ...(req.method === undefined ? {} : { method: req.method }),
    headers: {
      authorization: `Bearer ${req.bearerToken}`,
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(payload === undefined ? {} : { body: payload }),
  })
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`${req.method ?? 'GET'} ${req.url}: ${answer.status} ${answer.text}`)
  }
  return JSON.parse(answer.text)
}

/** Sends `req` and resolves with the answer, whatever its status; rejects only when none comes. */
export function httpsRequest(req: HttpsRequest): Promise<HttpsAnswer> {
  const url = new URL(req.url)
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: req.method ?? 'GET',
        ...(req.serverName === undefined ? {} : { servername: req.serverName }),
        ca: req.ca,
        headers: req.headers ?? {},
        timeout: 10_000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      },
    )
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${req.url}: no answer within 10 s`)))
    outgoing.on('error', reject)
    outgoing.end(req.body)
  })
}

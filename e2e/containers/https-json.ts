import { request } from 'node:https'

/** One HTTPS request with a JSON answer. */
export interface JsonRequest {
  readonly url: string
  readonly method?: 'GET' | 'POST'
  readonly body?: unknown
  /** CA certificates to verify the server with (PEM). */
  readonly ca: string
  /** The name the server's certificate is checked against, when not the URL's host. */
  readonly serverName?: string
  readonly bearerToken: string
}

/** Sends `req` and resolves with the parsed body of a 2xx answer; rejects with status and body otherwise. */
export function requestJson(req: JsonRequest): Promise<unknown> {
  const url = new URL(req.url)
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body)
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: req.method ?? 'GET',
        ...(req.serverName === undefined ? {} : { servername: req.serverName }),
        ca: req.ca,
        headers: {
          authorization: `Bearer ${req.bearerToken}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status < 200 || status > 299)
            reject(new Error(`${req.method ?? 'GET'} ${req.url}: ${status} ${text}`))
          else resolve(JSON.parse(text))
        })
      },
    )
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${req.url}: no answer within 10 s`)))
    outgoing.on('error', reject)
    outgoing.end(payload)
  })
}

import { connect as connectTcp } from 'node:net'
import { connect as connectTls, type TLSSocket } from 'node:tls'

/** What came back on a raw connection before it closed (or the deadline passed). */
export interface RawExchange {
  /** Every byte the server sent. */
  readonly received: Buffer
  /** Whether the server closed the connection before the deadline. */
  readonly closedByServer: boolean
  /** The TLS or socket error, if any (a refused handshake, a reset). */
  readonly error?: NodeJS.ErrnoException
}

/** An HTTP/1.1 answer parsed from raw bytes: the first one, when the server sent several. */
export interface RawAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Where a raw connection goes. */
export interface RawTarget {
  readonly port: number
  /** PEM of the CA the server's certificate chains to. */
  readonly ca: string
}

/**
 * Sends `chunks` over plain TCP (no TLS) and collects what comes back: what a client that
 * forgot `https://` would see.
 */
export function plaintextExchange(
  port: number,
  chunks: readonly (string | Buffer)[],
  deadlineMs = 5000,
): Promise<RawExchange> {
  const socket = connectTcp({ host: '127.0.0.1', port })
  return collect(socket, chunks, deadlineMs, true, undefined)
}

/**
 * Opens a TLS connection, writes `chunks` (an HTTP request, whole or not), optionally ends its
 * side, and collects what the server sends until it closes or `deadlineMs` passes.
 */
export function tlsExchange(
  target: RawTarget,
  chunks: readonly (string | Buffer)[],
  options: {
    readonly end?: boolean
    readonly deadlineMs?: number
    /** Stop collecting once this holds for what was received. */
    readonly until?: (received: Buffer) => boolean
  } = {},
): Promise<RawExchange> {
  const socket = connectTls({ host: '127.0.0.1', port: target.port, ca: target.ca, servername: 'localhost' })
  return new Promise((resolve) => {
    socket.once('secureConnect', () => {
      resolve(collect(socket, chunks, options.deadlineMs ?? 5000, options.end ?? true, options.until))
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve({ received: Buffer.alloc(0), closedByServer: true, error })
    })
  })
}

/**
 * Opens a TLS connection that sends `chunks` and then nothing more, without closing: a slow
 * client. Resolves with the socket once the handshake is done; the caller watches it close.
 */
export function heldTlsConnection(
  target: RawTarget,
  chunks: readonly (string | Buffer)[],
): Promise<TLSSocket> {
  const socket = connectTls({ host: '127.0.0.1', port: target.port, ca: target.ca, servername: 'localhost' })
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => {
      for (const chunk of chunks) socket.write(chunk)
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

function collect(
  socket: NodeJS.ReadWriteStream & {
    destroy(): void
    end(): void
    once(e: string, f: (...a: never[]) => void): unknown
  },
  chunks: readonly (string | Buffer)[],
  deadlineMs: number,
  end: boolean,
  until: ((received: Buffer) => boolean) | undefined,
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const received: Buffer[] = []
    let error: NodeJS.ErrnoException | undefined
    const timer = setTimeout(() => finish(false), deadlineMs)
    const finish = (closedByServer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve({
        received: Buffer.concat(received),
        closedByServer,
        ...(error === undefined ? {} : { error }),
      })
    }
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      if (until?.(Buffer.concat(received)) === true) finish(false)
    })
    socket.once('error', (e: NodeJS.ErrnoException) => {
      error = e
    })
    socket.once('close', () => finish(true))
    for (const chunk of chunks) socket.write(chunk)
    if (end) socket.end()
  })
}

/** Parses the first HTTP/1.1 answer in `bytes`, or `undefined` when there is none. */
export function parseFirstAnswer(bytes: Buffer): RawAnswer | undefined {
  const text = bytes.toString('latin1')
  const headerEnd = text.indexOf('\r\n\r\n')
  if (!text.startsWith('HTTP/1.') || headerEnd < 0) return undefined
  const [statusLine = '', ...headerLines] = text.slice(0, headerEnd).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = text.slice(headerEnd + 4)
  const length = Number(headers['content-length'])
  if (Number.isInteger(length)) body = body.slice(0, length)
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: Buffer.from(body, 'latin1').toString('utf8'),
  }
}

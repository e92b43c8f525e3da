import { AttestError, type AttestErrorOptions, isAttestErrorCode } from '@k8s-attest/core'

/**
 * Requests and answers between the primary and one worker over node:cluster's IPC channel
 * (`process.send` in the worker, `worker.send` in the primary). Both ends may ask and answer.
 * Messages are tagged so that other users of the channel (none today) pass by untouched.
 */

/** The end of the channel this side holds: `process` in a worker, a `cluster.Worker` in the primary. */
export interface IpcEndpoint {
  /**
   * Sends `message`; `callback` learns whether it went out. Node reports a channel that has
   * closed (the other process died) to the callback, and without one as an `error` event,
   * which nobody listens for and so crashes the process: every send here passes one.
   */
  send(message: unknown, callback: (error: Error | null) => void): unknown
  on(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
}

/** Answers one method; the value must survive structured cloning (no class instances, no functions). */
export type IpcHandler = (params: unknown) => unknown

const TAG = 'k8s-attest-ipc'

interface RequestMessage {
  readonly tag: typeof TAG
  readonly kind: 'request'
  readonly id: number
  readonly method: string
  readonly params: unknown
}

interface AnswerMessage {
  readonly tag: typeof TAG
  readonly kind: 'answer'
  readonly id: number
  readonly result?: unknown
  /** The failure, when the handler threw: its message and, for our errors, their code and details. */
  readonly error?: { readonly message: string; readonly code?: string; readonly details?: unknown }
}

/** How long a request waits for its answer: the other process is on the same host. */
const DEFAULT_TIMEOUT_MS = 10_000

/** One side of the channel: {@link request} asks the other side, {@link handle} answers it. */
export class IpcChannel {
  readonly #endpoint: IpcEndpoint
  readonly #handlers = new Map<string, IpcHandler>()
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  readonly #timeoutMs: number
  #nextId = 1
  readonly #listener = (message: unknown) => {
    if (!isOurs(message)) return
    if (message.kind === 'request') void this.#answer(message as RequestMessage)
    else this.#settle(message as AnswerMessage)
  }

  constructor(endpoint: IpcEndpoint, options: { readonly timeoutMs?: number } = {}) {
    this.#endpoint = endpoint
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    endpoint.on('message', this.#listener)
  }

  /** Answers `method` with `handler` (one handler per method). */
  handle(method: string, handler: IpcHandler): void {
    this.#handlers.set(method, handler)
  }

  /**
   * Asks the other side.
   * @throws {AttestError} what its handler threw, when that was an `AttestError` (same code and details).
   * @throws {Error} with the handler's message for any other failure, or when no handler exists.
   * @throws {Error} when no answer comes within the timeout (the other process is gone or stuck).
   */
  request<T>(method: string, params?: unknown): Promise<T> {
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`no answer to ${method} from the other process within ${this.#timeoutMs} ms`))
      }, this.#timeoutMs).unref()
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as T)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      const message: RequestMessage = { tag: TAG, kind: 'request', id, method, params }
      this.#endpoint.send(message, (error) => {
        if (error === null) return
        this.#pending.delete(id)
        clearTimeout(timer)
        reject(new Error(`could not ask the other process for ${method}: ${error.message}`, { cause: error }))
      })
    })
  }

  /** Stops listening; pending requests fail. */
  close(): void {
    this.#endpoint.off('message', this.#listener)
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id)
      pending.reject(new Error('the IPC channel closed before the answer came'))
    }
  }

  async #answer(message: RequestMessage): Promise<void> {
    const handler = this.#handlers.get(message.method)
    let answer: AnswerMessage
    try {
      if (handler === undefined) throw new Error(`no handler for ${message.method}`)
      answer = { tag: TAG, kind: 'answer', id: message.id, result: await handler(message.params) }
    } catch (error) {
      const { code, details } = (error ?? {}) as { code?: unknown; details?: unknown }
      answer = {
        tag: TAG,
        kind: 'answer',
        id: message.id,
        error: {
          message: error instanceof Error ? error.message : String(error),
          ...(typeof code === 'string' ? { code } : {}),
          ...(details === undefined ? {} : { details: JSON.parse(JSON.stringify(details)) }),
        },
      }
    }
    this.#endpoint.send(answer, () => {
      // An error means the other process is gone: nobody is waiting for the answer any more.
    })
  }

  #settle(message: AnswerMessage): void {
    const pending = this.#pending.get(message.id)
    if (pending === undefined) return
    this.#pending.delete(message.id)
    if (message.error === undefined) pending.resolve(message.result)
    else pending.reject(errorFromAnswer(message.error))
  }
}

/** The handler's error again on this side: an `AttestError` keeps its code, so the one error handler maps it. */
function errorFromAnswer(error: NonNullable<AnswerMessage['error']>): Error {
  if (!isAttestErrorCode(error.code)) return new Error(error.message)
  return new AttestError(error.code, error.message, (error.details ?? {}) as AttestErrorOptions)
}

function isOurs(message: unknown): message is { kind: string } {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === TAG
}

import { createHmac, randomBytes } from 'node:crypto'

/** A session as the server keeps it, by SHA-256 of its cookie value. */
export interface StoredSession {
  readonly csrfToken: string
  /** Milliseconds since the epoch (a number, so it crosses the workers' IPC channel unchanged). */
  readonly expiresAtMs: number
}

/**
 * Where dashboard sessions are kept. One process keeps them in its own memory
 * ({@link MemorySessionTable}); with `server.workers` above 1 every worker asks the primary,
 * which holds the one memory table (see `cluster/`), so a session made through one worker is
 * honoured, and ended, through every other.
 */
export interface SessionTable {
  /** Keeps `session` under `key`, ending the oldest sessions beyond the table's capacity. */
  add(key: string, session: StoredSession): Promise<void>
  /** The session under `key` if it has not expired at `nowMs`; an expired one is dropped. */
  get(key: string, nowMs: number): Promise<StoredSession | undefined>
  delete(key: string): Promise<void>
  /**
   * The CSRF token of a browser that presents an admin X.509 SVID (it has no session): an HMAC
   * of its SPIFFE ID under a key this table keeps, the same for every worker.
   */
  mtlsCsrfToken(spiffeId: string): Promise<string>
}

/** Most sessions held at once; signing in beyond that ends the oldest. */
export const MAX_SESSIONS = 1000

/** Sessions in this process's memory: a restart signs everyone out. */
export class MemorySessionTable implements SessionTable {
  /** Oldest first (a Map keeps insertion order). */
  readonly #sessions = new Map<string, StoredSession>()
  readonly #mtlsCsrfKey = randomBytes(32)
  readonly #capacity: number
  readonly #now: () => number

  constructor(options: { readonly capacity?: number; readonly now?: () => number } = {}) {
    this.#capacity = options.capacity ?? MAX_SESSIONS
    this.#now = options.now ?? Date.now
  }

  async add(key: string, session: StoredSession): Promise<void> {
    const now = this.#now()
    for (const [stored, { expiresAtMs }] of this.#sessions)
      if (expiresAtMs <= now) this.#sessions.delete(stored)
    while (this.#sessions.size >= this.#capacity) {
      const oldest = this.#sessions.keys().next().value
      if (oldest === undefined) break
      this.#sessions.delete(oldest)
    }
    this.#sessions.set(key, session)
  }

  async get(key: string, nowMs: number): Promise<StoredSession | undefined> {
    const stored = this.#sessions.get(key)
    if (stored !== undefined && stored.expiresAtMs > nowMs) return stored
    this.#sessions.delete(key)
    return undefined
  }

  async delete(key: string): Promise<void> {
    this.#sessions.delete(key)
  }

  async mtlsCsrfToken(spiffeId: string): Promise<string> {
    return createHmac('sha256', this.#mtlsCsrfKey).update(spiffeId).digest('base64url')
  }
}

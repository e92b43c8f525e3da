import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { AttestError } from '@k8s-attest/core'
import type { FastifyRequest } from 'fastify'
import type { AdminAuthenticator, AdminCaller } from '../admin/admin-auth.ts'
import { refuseCrossSite, SAFE_METHODS } from '../http/cross-site.ts'
import { peerSvidOf } from '../server/peer-svid.ts'
import { MemorySessionTable, type SessionTable } from './session-table.ts'

/**
 * The session cookie. The `__Host-` prefix makes the browser insist on `Secure`, `Path=/` and no
 * `Domain`, so no other host (a sibling subdomain) can set or shadow it.
 */
export const SESSION_COOKIE = '__Host-k8s-attest-session'

/** The header the dashboard sends its CSRF token in, on every request that changes something. */
export const CSRF_HEADER = 'x-csrf-token'

/** How long a session lasts after sign-in: a working day. Default of {@link DashboardSessionsOptions.ttlMs}. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000

/** Options of {@link DashboardSessions}. */
export interface DashboardSessionsOptions {
  /** Checks the bearer token a sign-in presents, and admin SVIDs. */
  readonly authenticator: AdminAuthenticator
  /** Default {@link DEFAULT_SESSION_TTL_MS}. */
  readonly ttlMs?: number
  /** Default `() => new Date()`. */
  readonly now?: () => Date
  /**
   * Where sessions are kept. Default: this process's memory. The workers of `server.workers`
   * share the primary's (see `cluster/primary-session-table.ts`).
   */
  readonly table?: SessionTable
}

/** A dashboard session, as the browser app learns it from `GET /dashboard/api/session`. */
export interface SessionView {
  readonly via: 'session' | 'mtls'
  /** Send it as {@link CSRF_HEADER} on every request that is not a GET. */
  readonly csrfToken: string
  /** When the session ends (for mTLS: never by itself; the certificate's own expiry applies). */
  readonly expiresAt?: Date
}

/** What a sign-in established: the cookie to set. */
export interface NewSession {
  /** The cookie's value; never stored server-side (only its SHA-256 is). */
  readonly cookieValue: string
  readonly expiresAt: Date
}

/**
 * The dashboard's sign-ins. The admin bearer token is exchanged once for a random session ID,
 * kept by the browser in an `HttpOnly`, `Secure`, `SameSite=Strict`, expiring cookie, so the
 * token itself never sits in page script or storage. Each session has a CSRF token that every
 * request changing something must echo in a header: `SameSite=Strict` already keeps the cookie
 * off cross-site requests, and the token also refuses same-site ones (another port on the same
 * host is the same site). A browser presenting an admin X.509 SVID needs no session; its CSRF
 * token is derived from its SPIFFE ID with a per-process key.
 *
 * Sessions live in one process's memory (this one, or the primary of `server.workers`): a
 * restart signs everyone out, and with several servers behind one address the balancer must keep
 * a browser on one of them.
 */
export class DashboardSessions {
  readonly #authenticator: AdminAuthenticator
  readonly #ttlMs: number
  readonly #now: () => Date
  /** By SHA-256 of the cookie value. */
  readonly #table: SessionTable

  constructor(options: DashboardSessionsOptions) {
    const ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1000) {
      throw new TypeError(`"ttlMs" must be an integer of at least 1000, got ${ttlMs}`)
    }
    this.#authenticator = options.authenticator
    this.#ttlMs = ttlMs
    this.#now = options.now ?? (() => new Date())
    this.#table = options.table ?? new MemorySessionTable({ now: () => this.#now().getTime() })
  }

  /**
   * Signs in with the admin bearer token.
   * @throws {AttestError} `ATT_ERR_UNAUTHENTICATED` when it is not the admin token (or the admin API has none).
   */
  async signIn(bearerToken: string, request: FastifyRequest): Promise<NewSession> {
    this.#authenticator.authenticate(`Bearer ${bearerToken}`, request.raw.socket)
    const cookieValue = randomBytes(32).toString('base64url')
    const expiresAt = new Date(this.#now().getTime() + this.#ttlMs)
    await this.#table.add(digest(cookieValue), {
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAtMs: expiresAt.getTime(),
    })
    return { cookieValue, expiresAt }
  }

  /** Ends the request's session, if it has one. */
  async signOut(request: FastifyRequest): Promise<void> {
    const cookie = request.cookies[SESSION_COOKIE]
    if (cookie !== undefined) await this.#table.delete(digest(cookie))
  }

  /**
   * The request's session (cookie or admin SVID), checking the CSRF token when the method
   * changes something.
   * @throws {AttestError} `ATT_ERR_UNAUTHENTICATED`, with `check` naming what is missing: `dashboard_session` or `csrf_token`.
   */
  async authenticate(request: FastifyRequest): Promise<SessionView> {
    const session = await this.#lookup(request)
    if (session === undefined) {
      throw unauthenticated(
        'dashboard_session',
        'sign in to the dashboard first (or present an admin X.509 SVID)',
      )
    }
    if (!SAFE_METHODS.has(request.method)) checkCsrf(request, session.csrfToken)
    return session
  }

  /**
   * For the admin API: the caller when the request carries no `Authorization` header but a
   * dashboard session cookie, `undefined` otherwise (the admin authenticator decides then).
   * @throws {AttestError} `ATT_ERR_UNAUTHENTICATED` for an unknown or expired session, or a missing CSRF token.
   */
  async adminCallerOf(request: FastifyRequest): Promise<AdminCaller | undefined> {
    if (request.headers.authorization !== undefined || request.cookies[SESSION_COOKIE] === undefined) {
      return undefined
    }
    await this.authenticate(request)
    return { via: 'dashboard_session' }
  }

  async #lookup(request: FastifyRequest): Promise<SessionView | undefined> {
    const cookie = request.cookies[SESSION_COOKIE]
    if (cookie !== undefined) {
      const stored = await this.#table.get(digest(cookie), this.#now().getTime())
      if (stored !== undefined) {
        return { via: 'session', csrfToken: stored.csrfToken, expiresAt: new Date(stored.expiresAtMs) }
      }
    }
    const peer = peerSvidOf(request.raw.socket)
    if (typeof peer === 'string') return undefined
    try {
      this.#authenticator.authenticate(undefined, request.raw.socket)
    } catch {
      // An SVID that is not an admin ID is simply no session; the sign-in page says what to do.
      return undefined
    }
    return { via: 'mtls', csrfToken: await this.#table.mtlsCsrfToken(peer.spiffeId) }
  }
}

/**
 * Refuses a request that changes something unless it comes from this origin (see
 * {@link refuseCrossSite}) and echoes the session's CSRF token.
 */
function checkCsrf(request: FastifyRequest, expected: string): void {
  refuseCrossSite(request)
  const presented = request.headers[CSRF_HEADER]
  if (typeof presented !== 'string' || !timingSafeEqual(digestBytes(presented), digestBytes(expected))) {
    throw unauthenticated('csrf_token', `the ${CSRF_HEADER} header does not carry this session's CSRF token`)
  }
}

function digest(text: string): string {
  return digestBytes(text).toString('base64url')
}

function digestBytes(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function unauthenticated(check: string, message: string, value?: string): AttestError {
  return new AttestError('ATT_ERR_UNAUTHENTICATED', message, {
    check,
    ...(value === undefined ? {} : { value }),
  })
}

import { Secret } from '@k8s-attest/core'
import type { FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import { AdminAuthenticator } from '../admin/admin-auth.ts'
import { DashboardSessions, SESSION_COOKIE } from './dashboard-sessions.ts'

const TOKEN = 'a'.repeat(64)

/** A request as DashboardSessions reads it: method, headers, cookies, a socket without TLS. */
function requestWith(options: { method?: string; cookie?: string; headers?: Record<string, string> } = {}) {
  return {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    cookies: options.cookie === undefined ? {} : { [SESSION_COOKIE]: options.cookie },
    raw: { socket: {} },
  } as unknown as FastifyRequest
}

function sessions(now: () => Date) {
  const authenticator = new AdminAuthenticator({
    bearerTokenFile: '/run/secrets/admin-token',
    bearerToken: new Secret(TOKEN),
    adminIds: [],
  })
  return new DashboardSessions({ authenticator, ttlMs: 60_000, now })
}

describe('DashboardSessions', async () => {
  it('exchanges the admin token for a session that expires after its lifetime', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z')
    const store = sessions(() => new Date(now))
    const { cookieValue, expiresAt } = await store.signIn(TOKEN, requestWith())
    expect(expiresAt).toEqual(new Date('2026-03-01T12:01:00Z'))
    expect((await store.authenticate(requestWith({ cookie: cookieValue }))).via).toBe('session')
    now += 60_000
    await expect(store.authenticate(requestWith({ cookie: cookieValue }))).rejects.toThrow(
      expect.objectContaining({ code: 'ATT_ERR_UNAUTHENTICATED', details: { check: 'dashboard_session' } }),
    )
  })

  it('refuses a wrong token at sign-in', async () => {
    const store = sessions(() => new Date())
    await expect(store.signIn(`${TOKEN}b`, requestWith())).rejects.toThrow(
      expect.objectContaining({ code: 'ATT_ERR_UNAUTHENTICATED' }),
    )
  })

  it('lets a change through only with the CSRF token of the same session', async () => {
    const store = sessions(() => new Date())
    const mine = await store.signIn(TOKEN, requestWith())
    const other = await store.signIn(TOKEN, requestWith())
    const { csrfToken } = await store.authenticate(requestWith({ cookie: mine.cookieValue }))
    const otherToken = (await store.authenticate(requestWith({ cookie: other.cookieValue }))).csrfToken
    const change = (token?: string) =>
      requestWith({
        method: 'DELETE',
        cookie: mine.cookieValue,
        headers: token === undefined ? {} : { 'x-csrf-token': token },
      })
    expect((await store.authenticate(change(csrfToken))).via).toBe('session')
    for (const token of [undefined, '', otherToken]) {
      await expect(store.authenticate(change(token))).rejects.toThrow(
        expect.objectContaining({ details: { check: 'csrf_token' } }),
      )
    }
  })

  it('leaves requests with an Authorization header, or without the cookie, to the admin authenticator', async () => {
    const store = sessions(() => new Date())
    const { cookieValue } = await store.signIn(TOKEN, requestWith())
    expect(await store.adminCallerOf(requestWith())).toBeUndefined()
    expect(
      await store.adminCallerOf(
        requestWith({ cookie: cookieValue, headers: { authorization: `Bearer ${TOKEN}` } }),
      ),
    ).toBeUndefined()
    expect(await store.adminCallerOf(requestWith({ cookie: cookieValue }))).toEqual({
      via: 'dashboard_session',
    })
  })

  it('forgets a session on sign-out', async () => {
    const store = sessions(() => new Date())
    const { cookieValue } = await store.signIn(TOKEN, requestWith())
    await store.signOut(requestWith({ cookie: cookieValue }))
    await expect(store.authenticate(requestWith({ cookie: cookieValue }))).rejects.toThrow()
  })
})

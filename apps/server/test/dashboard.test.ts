import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminAgentPath } from '@k8s-attest/admin-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DASHBOARD_PATHS } from '../src/dashboard/dashboard-plugin.ts'
import { SESSION_COOKIE } from '../src/dashboard/dashboard-sessions.ts'
import { FakeClusterClient } from './fake-cluster-client.ts'
import { psatScenario } from './psat-fixture.ts'
import { ADMIN_TOKEN } from './server-harness.ts'
import { buildUnitApp, type UnitApp } from './unit-app.ts'

/*
 * The dashboard's server side over inject(): sign-in, the session cookie, CSRF, the Content
 * Security Policy, and that nothing but the sign-in page answers without a session. The browser
 * app itself is tested in a real browser (e2e/browser).
 */

let unit: UnitApp
let assets: string
const INDEX_HTML =
  '<!doctype html><title>dashboard</title><script type="module" src="/dashboard/assets/app.js"></script>'

beforeAll(async () => {
  assets = await mkdtemp(join(tmpdir(), 'k8s-attest-dashboard-'))
  await mkdir(join(assets, 'assets'))
  await writeFile(join(assets, 'index.html'), INDEX_HTML)
  await writeFile(join(assets, 'assets', 'app.js'), 'console.log("dashboard")')
  unit = await buildUnitApp(
    { psat: psatScenario().client, sat: new FakeClusterClient() },
    { dashboardAssetsDir: assets },
  )
  await unit.app.ready()
})

afterAll(async () => {
  await unit?.close()
  await rm(assets, { recursive: true, force: true })
})

async function signIn(token = ADMIN_TOKEN) {
  return unit.app.inject({
    method: 'POST',
    url: DASHBOARD_PATHS.signIn,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ token }).toString(),
  })
}

/** A signed-in browser: its cookie header and its CSRF token. */
async function session() {
  const response = await signIn()
  const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE)
  if (cookie === undefined) throw new Error('sign-in set no session cookie')
  const cookieHeader = `${SESSION_COOKIE}=${cookie.value}`
  const view = await unit.app.inject({ url: DASHBOARD_PATHS.session, headers: { cookie: cookieHeader } })
  return { cookie: cookieHeader, csrf: view.json().csrf_token as string }
}

describe('without a session', () => {
  it('serves only the sign-in page and its stylesheet', async () => {
    const page = await unit.app.inject({ url: DASHBOARD_PATHS.signIn })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<form method="post" action="/dashboard/sign-in">')
    expect((await unit.app.inject({ url: '/dashboard/sign-in.css' })).statusCode).toBe(200)
  })

  it('sends the dashboard page to sign-in and refuses every API and asset with 401', async () => {
    const root = await unit.app.inject({ url: DASHBOARD_PATHS.root })
    expect(root.statusCode).toBe(303)
    expect(root.headers.location).toBe(DASHBOARD_PATHS.signIn)
    expect(root.body).toBe('')
    for (const url of [
      DASHBOARD_PATHS.session,
      DASHBOARD_PATHS.overview,
      '/dashboard/assets/app.js',
      '/v1/admin/agents',
    ]) {
      const response = await unit.app.inject({ url })
      expect(response.statusCode, url).toBe(401)
      expect(response.json().code, url).toBe('ATT_ERR_UNAUTHENTICATED')
    }
    const forgedCookie = await unit.app.inject({
      url: DASHBOARD_PATHS.overview,
      headers: { cookie: `${SESSION_COOKIE}=forged` },
    })
    expect(forgedCookie.json()).toMatchObject({ code: 'ATT_ERR_UNAUTHENTICATED', check: 'dashboard_session' })
  })

  it('refuses a wrong token on the sign-in page, setting no cookie', async () => {
    const response = await signIn(`${ADMIN_TOKEN}x`)
    expect(response.statusCode).toBe(401)
    expect(response.cookies).toEqual([])
    expect(response.body).toContain('That is not the admin token')
  })

  it('refuses a sign-in posted from another site', async () => {
    const response = await unit.app.inject({
      method: 'POST',
      url: DASHBOARD_PATHS.signIn,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      payload: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    })
    expect(response.statusCode).toBe(403)
    expect(response.cookies).toEqual([])
  })
})

describe('signed in', () => {
  it('sets a Secure, HttpOnly, SameSite=Strict, expiring __Host- cookie', async () => {
    const response = await signIn()
    expect(response.statusCode).toBe(303)
    expect(response.headers.location).toBe(DASHBOARD_PATHS.root)
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE)
    expect(cookie).toMatchObject({ path: '/', secure: true, httpOnly: true, sameSite: 'Strict' })
    const expires = cookie?.expires?.getTime() ?? 0
    expect(expires).toBeGreaterThan(Date.now())
    expect(expires).toBeLessThanOrEqual(Date.now() + 8 * 3600_000)
    expect(cookie?.value).not.toContain(ADMIN_TOKEN)
  })

  it('serves the app, its assets and its endpoints with a strict Content Security Policy', async () => {
    const { cookie } = await session()
    const page = await unit.app.inject({ url: DASHBOARD_PATHS.root, headers: { cookie } })
    expect(page.statusCode).toBe(200)
    expect(page.body).toBe(INDEX_HTML)
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe')
    expect(page.headers['cache-control']).toBe('no-store')
    const script = await unit.app.inject({ url: '/dashboard/assets/app.js', headers: { cookie } })
    expect(script.statusCode).toBe(200)
    expect(script.headers['cache-control']).toBe('private, max-age=31536000, immutable')
    const overview = await unit.app.inject({ url: DASHBOARD_PATHS.overview, headers: { cookie } })
    expect(overview.json()).toMatchObject({
      ready: expect.any(Boolean),
      agents: { attested: 0, expired: 0, banned: 0 },
      attestations: { bucket_seconds: 10, buckets: [] },
    })
  })

  it('reads the admin API with the session, and changes nothing without the CSRF token', async () => {
    const { cookie, csrf } = await session()
    const spiffeId = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-1'
    await unit.store.recordAttestation({
      spiffeId,
      attestor: 'k8s_psat',
      cluster: 'demo',
      selectors: [{ type: 'k8s_psat', value: 'agent_node_name:node-1' }],
      svidSerial: '01',
      svidExpiresAt: new Date(Date.now() + 3600_000),
    })
    const listed = await unit.app.inject({ url: '/v1/admin/agents?search=NODE-1', headers: { cookie } })
    expect(listed.json().agents.map((a: { spiffe_id: string }) => a.spiffe_id)).toEqual([spiffeId])

    const noToken = await unit.app.inject({
      method: 'POST',
      url: adminAgentPath(spiffeId, 'ban'),
      headers: { cookie },
    })
    expect(noToken.statusCode).toBe(401)
    expect(noToken.json().check).toBe('csrf_token')
    const crossSite = await unit.app.inject({
      method: 'DELETE',
      url: adminAgentPath(spiffeId),
      headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-site' },
    })
    expect(crossSite.json().check).toBe('csrf_origin')
    expect((await unit.store.getAgent(spiffeId))?.banned).toBe(false)

    const banned = await unit.app.inject({
      method: 'POST',
      url: adminAgentPath(spiffeId, 'ban'),
      headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-origin' },
    })
    expect(banned.json()).toMatchObject({ spiffe_id: spiffeId, banned: true })
    const evicted = await unit.app.inject({
      method: 'DELETE',
      url: adminAgentPath(spiffeId),
      headers: { cookie, 'x-csrf-token': csrf },
    })
    expect(evicted.json()).toEqual({ spiffe_id: spiffeId, evicted: true })
  })

  it('signs out: the cookie is cleared and the session no longer answers', async () => {
    const { cookie, csrf } = await session()
    const withoutToken = await unit.app.inject({
      method: 'POST',
      url: DASHBOARD_PATHS.signOut,
      headers: { cookie },
    })
    expect(withoutToken.statusCode).toBe(401)
    const out = await unit.app.inject({
      method: 'POST',
      url: DASHBOARD_PATHS.signOut,
      headers: { cookie, 'x-csrf-token': csrf },
    })
    expect(out.statusCode).toBe(204)
    expect(out.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toBe('')
    expect((await unit.app.inject({ url: DASHBOARD_PATHS.overview, headers: { cookie } })).statusCode).toBe(
      401,
    )
    expect((await unit.app.inject({ url: '/v1/admin/agents', headers: { cookie } })).statusCode).toBe(401)
  })
})

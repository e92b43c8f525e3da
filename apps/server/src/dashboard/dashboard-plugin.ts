import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AttestError } from '@k8s-attest/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { problemResponses } from '../http/problem-responses.ts'
import type { ServerMetrics } from '../metrics/metrics.ts'
import { SERVICES_PLUGIN } from '../plugins/services.ts'
import { AttestationHistory } from './attestation-history.ts'
import { type DashboardSessions, SESSION_COOKIE } from './dashboard-sessions.ts'
import { SIGN_IN_CSS, SIGN_IN_CSS_PATH, SIGN_IN_PATH, signInPage } from './sign-in-page.ts'

/** Options of {@link dashboardPlugin}. */
export interface DashboardPluginOptions {
  readonly sessions: DashboardSessions
  /** The built browser app (`@k8s-attest/dashboard`'s `DASHBOARD_ASSETS_DIR`): `index.html`, `assets/`. */
  readonly assetsDir: string
  /** Length of a bucket of the attestations chart. Default 10 s. */
  readonly chartBucketMs?: number
  /**
   * Where the chart reads attestation totals. Default: this process's `k8s_attest_attestations_total`;
   * in a worker of `server.workers`, every worker's, summed by the primary.
   */
  readonly attestationTotals?: ServerMetrics['attestationTotals']
}

/** Where the dashboard is. The demo prints `https://<server>/dashboard/`. */
export const DASHBOARD_PATHS = {
  root: '/dashboard/',
  signIn: SIGN_IN_PATH,
  signOut: '/dashboard/sign-out',
  session: '/dashboard/api/session',
  overview: '/dashboard/api/overview',
} as const

/**
 * Everything a dashboard response carries: a Content Security Policy that allows only this
 * origin's scripts, styles and connections (no inline code, no other origin, no framing), and
 * headers that keep pages out of caches, referrers and other sites' windows.
 */
export const DASHBOARD_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const

const SessionSchema = Type.Object(
  {
    via: Type.Union([Type.Literal('session'), Type.Literal('mtls')]),
    csrf_token: Type.String(),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
)

const OverviewSchema = Type.Object(
  {
    server_time: Type.String({ format: 'date-time' }),
    ready: Type.Boolean(),
    problems: Type.Array(Type.String(), { description: 'Why the server is not ready; empty when it is' }),
    agents: Type.Object(
      { attested: Type.Integer(), expired: Type.Integer(), banned: Type.Integer() },
      { additionalProperties: false },
    ),
    attestations: Type.Object(
      {
        bucket_seconds: Type.Number(),
        buckets: Type.Array(
          Type.Object(
            {
              start: Type.String({ format: 'date-time' }),
              success: Type.Integer(),
              refused: Type.Record(Type.String(), Type.Integer(), { description: 'By error code' }),
              error: Type.Integer(),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)

const SignInBodySchema = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
)

/**
 * The agents dashboard at `/dashboard/`: the sign-in page (the only thing served without a
 * session), the built browser app, and the two small endpoints it needs beside the admin API
 * (`/dashboard/api/session` for its CSRF token, `/dashboard/api/overview` for readiness, agent
 * counts and the attestations chart). Agents themselves come from the admin API, which accepts
 * the dashboard's session (see `DashboardSessions`). Wrapped in `fastify-plugin` so that the
 * cookie parser it registers serves the admin routes too.
 */
export const dashboardPlugin = fp<DashboardPluginOptions>(
  async (app, options) => {
    await app.register(cookie)
    await app.register(dashboardRoutes, options)
  },
  { name: 'k8s-attest-dashboard', fastify: '5.x', dependencies: [SERVICES_PLUGIN] },
)

const dashboardRoutes: FastifyPluginAsyncTypebox<DashboardPluginOptions> = async (app, options) => {
  const { sessions } = options
  const history = new AttestationHistory({
    metrics:
      options.attestationTotals === undefined
        ? app.metrics
        : { attestationTotals: options.attestationTotals },
    ...(options.chartBucketMs === undefined ? {} : { bucketMs: options.chartBucketMs }),
  })
  app.addHook('onReady', async () => {
    await history.start()
  })
  app.addHook('onClose', async () => {
    history.stop()
  })
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(DASHBOARD_SECURITY_HEADERS)
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store')
  })
  await app.register(formbody)

  app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(DASHBOARD_PATHS.root, 308),
  )

  app.get(SIGN_IN_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(signInPage()),
  )

  app.get(SIGN_IN_CSS_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(SIGN_IN_CSS),
  )

  app.post(
    SIGN_IN_PATH,
    {
      schema: {
        summary: 'Dashboard sign-in: exchange the admin bearer token for a session cookie',
        // A browser's form post answered with a page: not part of the HTTP API.
        hide: true,
        body: SignInBodySchema,
      },
    },
    async (request, reply) => {
      const site = request.headers['sec-fetch-site']
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        return reply
          .code(403)
          .type('text/html; charset=utf-8')
          .send(signInPage('Sign in from this page, not from another site.'))
      }
      let session: Awaited<ReturnType<DashboardSessions['signIn']>>
      try {
        session = await sessions.signIn(request.body.token.trim(), request)
      } catch (error) {
        if (!(error instanceof AttestError) || error.code !== 'ATT_ERR_UNAUTHENTICATED') throw error
        request.log.info(
          { admin_auth: 'dashboard_sign_in', check: error.details.check },
          'dashboard sign-in refused',
        )
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .send(signInPage('That is not the admin token. Check the file named by bearer_token_file.'))
      }
      request.log.info({ admin_auth: 'dashboard_sign_in' }, 'dashboard signed in')
      return reply
        .setCookie(SESSION_COOKIE, session.cookieValue, {
          path: '/',
          secure: true,
          httpOnly: true,
          sameSite: 'strict',
          expires: session.expiresAt,
        })
        .redirect(DASHBOARD_PATHS.root, 303)
    },
  )

  // Everything below needs a session (or an admin SVID).
  await app.register(async (signedIn) => {
    signedIn.addHook('onRequest', async (request, reply) => {
      try {
        await sessions.authenticate(request)
      } catch (error) {
        // A person opening the dashboard is sent to sign in; anything else gets the 401.
        if (request.method === 'GET' && request.url.split('?')[0] === DASHBOARD_PATHS.root) {
          return reply.redirect(SIGN_IN_PATH, 303)
        }
        throw error
      }
    })

    let indexHtml: string | undefined
    signedIn.get(DASHBOARD_PATHS.root, { schema: { hide: true } }, async (_request, reply) => {
      indexHtml ??= await readIndexHtml(options.assetsDir)
      return reply.type('text/html; charset=utf-8').send(indexHtml)
    })

    signedIn.get(
      DASHBOARD_PATHS.session,
      {
        schema: {
          summary: "The dashboard session's CSRF token",
          response: { 200: SessionSchema, ...problemResponses(401) },
        },
      },
      async (request) => {
        const session = await sessions.authenticate(request)
        return {
          via: session.via,
          csrf_token: session.csrfToken,
          ...(session.expiresAt === undefined ? {} : { expires_at: session.expiresAt.toISOString() }),
        }
      },
    )

    signedIn.get(
      DASHBOARD_PATHS.overview,
      {
        schema: {
          summary: 'Readiness, agents by state and attestations over time, for the dashboard',
          response: { 200: OverviewSchema, ...problemResponses(401) },
        },
      },
      async () => {
        const [readiness, counts] = await Promise.all([app.readiness.report(), app.agents.countAgents()])
        return {
          server_time: new Date().toISOString(),
          ready: readiness.ready,
          problems: [...readiness.problems],
          agents: { attested: counts.active, expired: counts.expired, banned: counts.banned },
          attestations: {
            bucket_seconds: history.bucketMs / 1000,
            buckets: history.buckets().map((bucket) => ({ ...bucket, start: bucket.start.toISOString() })),
          },
        }
      },
    )

    signedIn.post(
      DASHBOARD_PATHS.signOut,
      { schema: { summary: 'Dashboard sign-out', hide: true } },
      async (request, reply) => signOut(sessions, request, reply),
    )

    // Hashed file names: a file never changes, so the browser may keep it (privately).
    await signedIn.register(fastifyStatic, {
      root: join(options.assetsDir, 'assets'),
      prefix: '/dashboard/assets/',
      index: false,
      wildcard: true,
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('cache-control', 'private, max-age=31536000, immutable')
      },
    })
  })
}

async function signOut(sessions: DashboardSessions, request: FastifyRequest, reply: FastifyReply) {
  await sessions.signOut(request)
  request.log.info({ admin_auth: 'dashboard_sign_out' }, 'dashboard signed out')
  return reply
    .clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' })
    .code(204)
    .send()
}

/** `index.html` of the built app, or a 503 saying how to build it. */
async function readIndexHtml(assetsDir: string): Promise<string> {
  try {
    return await readFile(join(assetsDir, 'index.html'), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    throw new AttestError(
      'ATT_ERR_NOT_READY',
      `the dashboard is not built: no ${join(assetsDir, 'index.html')}; run \`pnpm build\``,
      { check: 'dashboard_assets', value: assetsDir },
    )
  }
}

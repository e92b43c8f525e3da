import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { createSelfSubjectAccessReview } from './access-review.ts'
import { deleteOptions as deleteOptionsSchema } from './api-types.ts'
import { forbiddenReason } from './authorization.ts'
import type { Cluster } from './cluster.ts'
import { decodeObject, parseJsonBody } from './decode.ts'
import { serveDiscovery } from './discovery.ts'
import { readBody, requireJsonBody, writeJson, writeStatusError, writeText } from './http.ts'
import type { Identity } from './identities.ts'
import { isJsonObject, type JsonValue, numberAt, objectAt, stringAt } from './json.ts'
import { managerFromUserAgent } from './managed-fields.ts'
import { patchTypeOf } from './patch.ts'
import { parseRequestInfo, type RequestInfo, type ResourceRequestInfo } from './request-info.ts'
import { findResource } from './resources/catalog.ts'
import type { ResourceDefinition } from './resources/definition.ts'
import { type ObjectMatcher, parseFieldSelector, parseLabelSelector } from './selectors.ts'
import {
  badRequest,
  forbidden,
  internalError,
  isKubeStatusError,
  type KubeStatusError,
  methodNotAllowed,
  resourceNotServed,
  unauthorized,
} from './status.ts'
import { createTokenRequest } from './token-request.ts'
import { createTokenReview } from './token-review.ts'
import { ANONYMOUS_USER, type UserInfo } from './user-info.ts'
import { serveWatch } from './watch.ts'

/**
 * The HTTPS front of a cluster, built on node:https rather than a framework
 * so that every answer (Status bodies, 404s, 405s, watch streams, their
 * formatting) is kube-apiserver's and none is a framework's default.
 *
 * Each request goes: count → injected faults → authentication (401) →
 * authorization (403) → handler, as kube-apiserver's filter chain does
 * (faults stand where a slow or failing apiserver would be seen).
 */

/** How the server treats new connections (a connection fault). */
export type ConnectionMode = 'accept' | 'reset'

/** A running server. */
export interface RunningServer {
  readonly url: string
  readonly port: number
  /** `reset`: every new connection is destroyed as soon as it is accepted. */
  setConnectionMode(mode: ConnectionMode): void
  /** Closes the listening socket: new connections are refused (ECONNREFUSED); open ones go on. */
  stopAccepting(): Promise<void>
  /** Listens again on the same port. */
  resumeAccepting(): Promise<void>
  /** Destroys every open connection (watches included); returns how many. */
  destroyConnections(): number
  /** Stops listening and destroys every connection. */
  close(): Promise<void>
}

/** Where and how to serve. */
export interface ServerOptions {
  readonly host: string
  readonly port: number
  readonly certificateChainPem: string
  readonly privateKeyPem: string
  /** Called with errors no request handler expected (answered with a 500). */
  readonly onError: (error: unknown) => void
}

interface Caller {
  readonly user: UserInfo
  readonly identity?: Identity
}

/** Starts serving `cluster` over HTTPS. */
export async function startServer(cluster: Cluster, options: ServerOptions): Promise<RunningServer> {
  const sockets = new Set<Socket>()
  let mode: ConnectionMode = 'accept'
  const server: Server = createServer(
    { cert: options.certificateChainPem, key: options.privateKeyPem },
    (req, res) => {
      handleRequest(cluster, req, res).catch((error: unknown) => {
        options.onError(error)
        if (!res.headersSent)
          writeStatusError(res, internalError('an unexpected error occurred'), req.headers.accept)
        else res.destroy()
      })
    },
  )
  // kube-apiserver keeps idle connections for 90 s (Go's IdleTimeout there), far
  // longer than Node's default 5 s: clients that pool connections must see them reused.
  server.keepAliveTimeout = 90_000
  server.on('connection', (socket: Socket) => {
    if (mode === 'reset') {
      socket.destroy()
      return
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('secureConnection', (_socket: TLSSocket) => cluster.counters.recordTlsConnection())
  // A client that hangs up mid-handshake is the client's problem, not a server error.
  server.on('tlsClientError', () => undefined)

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(options.port)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('the server has no TCP address')
  const port = address.port
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host
  const url = `https://${hostForUrl}:${port}`

  const destroyConnections = (): number => {
    const count = sockets.size
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    return count
  }
  return {
    url,
    port,
    setConnectionMode(next) {
      mode = next
    },
    stopAccepting: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve()
        // `close` waits for open connections; the listener is gone at once.
        server.close()
        resolve()
      }),
    resumeAccepting: () => (server.listening ? Promise.resolve() : listen(port)),
    destroyConnections,
    close: () =>
      new Promise((resolve) => {
        destroyConnections()
        if (!server.listening) return resolve()
        server.close(() => resolve())
      }),
  }
}

async function handleRequest(cluster: Cluster, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://kubernetes.default.svc')
  const info = parseRequestInfo(req.method ?? 'GET', url)
  cluster.counters.record(info)
  try {
    // Authentication comes before the faults, as it comes before priority and fairness in
    // kube-apiserver's filter chain: a bad credential is a 401, never an injected 429.
    const caller = authenticate(cluster, req.headers.authorization)
    const fault = cluster.faults.decide(info)
    if (fault.latencyMs > 0) await delay(cluster, fault.latencyMs, res)
    if (fault.held !== undefined) await heldUntil(fault.held, res)
    if (res.destroyed) return
    if (fault.resetMidResponse === true) cutOffMidBody(res)
    if (fault.error !== undefined) {
      const headers =
        fault.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(fault.retryAfterSeconds) }
      if (isKubeStatusError(fault.error)) writeStatusError(res, fault.error, req.headers.accept, headers)
      else writeText(res, fault.error.httpStatus, fault.error.text, headers)
      return
    }
    const decision = cluster.authorizer.authorize(caller.user, info, caller.identity)
    if (!decision.allowed) {
      const resource = info.resourceRequest ? { group: info.apiGroup, resource: info.resource } : undefined
      const refusal = forbidden(
        resource,
        info.resourceRequest ? info.name : '',
        forbiddenReason(caller.user, info, decision.reason),
      )
      // responsewriters.Forbidden sets it on the authorizer's refusals.
      writeStatusError(res, refusal, req.headers.accept, { 'X-Content-Type-Options': 'nosniff' })
      return
    }
    await route(cluster, req, res, url, info, caller)
  } catch (error) {
    if (!isKubeStatusError(error)) throw error
    if (res.headersSent) res.destroy()
    else writeStatusError(res, error as KubeStatusError, req.headers.accept)
  }
}

/** Waits until a `hang` fault lets the request go on, or the client goes away. */
function heldUntil(held: Promise<void>, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    void held.then(resolve)
    res.once('close', resolve)
  })
}

/**
 * Makes `res` send its head and the first half of its body, then destroy the socket instead of
 * finishing: the client sees a connection reset mid-response.
 */
function cutOffMidBody(res: ServerResponse): void {
  // The head already announced the whole body's Content-Length, so the client cannot mistake
  // the half it gets for a complete answer.
  res.end = ((chunk?: unknown) => {
    const body = typeof chunk === 'string' || Buffer.isBuffer(chunk) ? Buffer.from(chunk) : Buffer.alloc(0)
    res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))), () => res.destroy())
    return res
  }) as typeof res.end
}

/** Waits `ms` of the cluster's clock, or until the client goes away. */
function delay(cluster: Cluster, ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const cancel = cluster.clock.setTimer(ms, resolve)
    res.once('close', () => {
      cancel()
      resolve()
    })
  })
}

/** Bearer tokens: 401 when presented and invalid; anonymous without one. */
/**
 * The bearer token authenticator's reading of `Authorization` (bearertoken.go): trimmed, split
 * at single spaces into at most three parts, the second one the token; words after it are
 * ignored, an empty one ("Bearer  x") is an invalid token; anything but "Bearer …" is no token.
 */
function authenticate(cluster: Cluster, header: string | undefined): Caller {
  const parts = (header ?? '').trim().split(' ')
  if (parts.length < 2 || parts[0]?.toLowerCase() !== 'bearer') return { user: ANONYMOUS_USER }
  const token = parts[1] as string
  if (token === '') throw unauthorized()
  const outcome = cluster.authenticator.authenticate(token)
  if (!outcome.authenticated) throw unauthorized()
  return outcome.identity === undefined
    ? { user: outcome.user }
    : { user: outcome.user, identity: outcome.identity }
}

async function readJson(req: IncomingMessage): Promise<JsonValue> {
  return parseJsonBody(await readBody(req))
}

async function route(
  cluster: Cluster,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: RequestInfo,
  caller: Caller,
): Promise<void> {
  if (!info.resourceRequest) {
    if (serveDiscovery(cluster, req, res, info)) return
    if (/^\/apis?(\/|$)/.test(info.path)) throw resourceNotServed()
    writeText(res, 404, '404 page not found\n')
    return
  }
  const manager = managerFromUserAgent(req.headers['user-agent'])
  const { apiGroup, apiVersion, resource, subresource } = info

  if (apiGroup === 'authentication.k8s.io' && apiVersion === 'v1' && resource === 'tokenreviews') {
    if (info.verb !== 'create' || info.name !== '') throw methodNotAllowed()
    requireJsonBody(req.headers['content-type'])
    writeJson(res, 201, createTokenReview(cluster, await readJson(req), manager))
    return
  }
  if (apiGroup === 'authorization.k8s.io' && apiVersion === 'v1' && resource === 'selfsubjectaccessreviews') {
    if (info.verb !== 'create' || info.name !== '') throw methodNotAllowed()
    requireJsonBody(req.headers['content-type'])
    const body = await readJson(req)
    writeJson(res, 201, createSelfSubjectAccessReview(cluster, caller.user, caller.identity, body, manager))
    return
  }
  if (apiGroup === '' && apiVersion === 'v1' && resource === 'serviceaccounts' && subresource === 'token') {
    if (info.verb !== 'create' || info.namespace === '') throw methodNotAllowed()
    requireJsonBody(req.headers['content-type'])
    const result = createTokenRequest(cluster, info.namespace, info.name, await readJson(req), manager)
    writeJson(res, 201, result.response)
    return
  }

  const definition = findResource(apiGroup, apiVersion, resource)
  if (definition === undefined) throw resourceNotServed()
  if (!definition.namespaced && info.namespace !== '' && resource !== 'namespaces') throw resourceNotServed()
  if (definition.namespaced && info.namespace === '' && info.name !== '') throw resourceNotServed()
  if (subresource !== '' && !(subresource === 'status' && definition.hasStatus)) throw resourceNotServed()
  await serveResource(cluster, definition, req, res, url, info, manager)
}

function selectorsOf(url: URL, definition: ResourceDefinition, info: ResourceRequestInfo): ObjectMatcher[] {
  const matchers: ObjectMatcher[] = []
  const labelSelector = url.searchParams.get('labelSelector')
  if (labelSelector) matchers.push(parseLabelSelector(labelSelector))
  const fieldSelector = url.searchParams.get('fieldSelector')
  if (fieldSelector) matchers.push(parseFieldSelector(fieldSelector, definition.resource))
  if (info.name !== '') matchers.push(parseFieldSelector(`metadata.name=${info.name}`, definition.resource))
  return matchers
}

async function serveResource(
  cluster: Cluster,
  definition: ResourceDefinition,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: ResourceRequestInfo,
  manager: string,
): Promise<void> {
  const { registry } = cluster
  const namespace = definition.resource === 'namespaces' ? '' : info.namespace
  const subresource = info.subresource === 'status' ? ('status' as const) : undefined
  const request = { manager }
  switch (info.verb) {
    case 'get':
      writeJson(res, 200, registry.get(definition, namespace, info.name))
      return
    case 'list':
      writeJson(
        res,
        200,
        registry.list(definition, namespace || undefined, selectorsOf(url, definition, info)),
      )
      return
    case 'watch': {
      const timeout = url.searchParams.get('timeoutSeconds')
      const timeoutSeconds = timeout === null ? undefined : Number(timeout)
      if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0)) {
        throw badRequest(`invalid timeoutSeconds: ${timeout}`)
      }
      const bookmarks = url.searchParams.get('allowWatchBookmarks')
      serveWatch(
        {
          definition,
          namespace: definition.namespaced ? namespace || undefined : undefined,
          matchers: selectorsOf(url, definition, info),
          resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
          allowBookmarks: bookmarks === 'true' || bookmarks === '1',
          timeoutSeconds,
        },
        res,
        {
          store: cluster.store,
          clock: cluster.clock,
          random: cluster.settings.random,
          openWatches: cluster.openWatches,
        },
      )
      return
    }
    case 'create':
      if (info.name !== '' || subresource !== undefined) throw methodNotAllowed()
      requireJsonBody(req.headers['content-type'])
      writeJson(res, 201, registry.create(definition, namespace, await readJson(req), request))
      return
    case 'update':
      requireJsonBody(req.headers['content-type'])
      writeJson(
        res,
        200,
        registry.update(definition, namespace, info.name, await readJson(req), request, subresource),
      )
      return
    case 'patch': {
      const type = patchTypeOf(req.headers['content-type'])
      const patch = await readJson(req)
      writeJson(res, 200, registry.patch(definition, namespace, info.name, type, patch, request, subresource))
      return
    }
    case 'delete': {
      if (subresource !== undefined) throw methodNotAllowed()
      const options = await deleteOptionsOf(req, url)
      const result = registry.delete(definition, namespace, info.name, { ...request, ...options })
      writeJson(res, 200, result.body)
      return
    }
    default:
      throw methodNotAllowed()
  }
}

/** `DeleteOptions` from the query and, overriding it, the body. */
async function deleteOptionsOf(
  req: IncomingMessage,
  url: URL,
): Promise<{ gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } }> {
  const options: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } } =
    {}
  const queryGrace = url.searchParams.get('gracePeriodSeconds')
  if (queryGrace !== null) {
    const grace = Number(queryGrace)
    if (!Number.isInteger(grace)) throw badRequest(`invalid gracePeriodSeconds: ${queryGrace}`)
    options.gracePeriodSeconds = grace
  }
  const raw = await readBody(req)
  if (raw.trim() === '') return options
  const parsed = parseJsonBody(raw)
  // DeleteOptions are accepted in `v1` and in their own group `meta.k8s.io/v1`.
  if (isJsonObject(parsed) && parsed.apiVersion === 'meta.k8s.io/v1') parsed.apiVersion = 'v1'
  const body = decodeObject(parsed, { kind: 'DeleteOptions', apiVersion: 'v1', schema: deleteOptionsSchema })
  const grace = numberAt(body, 'gracePeriodSeconds')
  if (grace !== undefined) options.gracePeriodSeconds = grace
  const preconditions = objectAt(body, 'preconditions')
  if (isJsonObject(preconditions)) {
    const uid = stringAt(preconditions, 'uid')
    const resourceVersion = stringAt(preconditions, 'resourceVersion')
    options.preconditions = {
      ...(uid === undefined ? {} : { uid }),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    }
  }
  return options
}

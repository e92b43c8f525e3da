import { randomUUID, X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import {
  type AttestErrorCode,
  type AttestRequest,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  psatAgentId,
  type RenewRequest,
  type SvidResponse,
  satAgentId,
  serverSpiffeId,
  WIRE_PATHS,
} from '@k8s-attest/core'
import { AttestRequestSchema, RenewRequestSchema } from '@k8s-attest/core/wire'
import type * as x509 from '@peculiar/x509'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { Compile } from 'typebox/compile'
import { uriSansOf } from '../src/spiffe.ts'
import { csrPublicKey, TestCa } from './test-ca.ts'

/** Options of {@link FakeServer.start}. */
export interface FakeServerOptions {
  /** Default `"example.org"`. */
  readonly trustDomain?: string
  /** The CA that signs everything. Default: a new one. */
  readonly ca?: TestCa
  /** The URI SAN of the serving certificate. Default `spiffe://<td>/spire/server`; change it to impersonate. */
  readonly servingId?: string
  /** The serving certificate's extKeyUsage. Default none (any purpose). */
  readonly servingExtendedKeyUsages?: readonly x509.ExtendedKeyUsage[]
  /** Lifetime of issued SVIDs. Default 1 h. */
  readonly svidTtlMs?: number
  /** The clock SVIDs are minted and client certificates checked with. Default `Date.now`. */
  readonly now?: () => number
  /** The node UID k8s_psat agent IDs end with. Default `"node-uid-1"`. */
  readonly nodeUid?: string
}

/** A refusal to answer instead of an SVID, scripted by the test. */
export interface ScriptedRefusal {
  readonly status: number
  readonly code: AttestErrorCode
  readonly detail?: string
  readonly check?: string
  /** Sent as `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number
}

/** An answer sent as is, to play a misbehaving server or a proxy in front of it. */
export interface RawAnswer {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

/** One `POST /v1/attest` the server received (the token as sent, so tests can compare it). */
export interface RecordedAttestation {
  readonly type: string
  readonly cluster: string
  readonly token: string
  /** The fake clock when it arrived. */
  readonly at: number
}

/** An attestation the server holds before answering, released by the test. */
export interface HeldAttestation {
  /** Resolves once the request has arrived (and is being held). */
  readonly arrived: Promise<void>
  /** Lets the server answer it (to nobody, if the agent is gone by then). */
  release(): void
}

/** One `POST /v1/renew` the server received. */
export interface RecordedRenewal {
  /** The SPIFFE ID of the client certificate, or `undefined` without one. */
  readonly clientId: string | undefined
  readonly at: number
}

/** One SVID the server issued. */
export interface IssuedSvid {
  readonly spiffeId: string
  readonly serialNumber: string
  readonly notAfter: Date
}

const checkAttestRequest = Compile(AttestRequestSchema)
const checkRenewRequest = Compile(RenewRequestSchema)

/**
 * A stand-in for the k8s-attest server, speaking core's wire contract over real HTTPS (fastify
 * on 127.0.0.1, port 0): it attests any token (recording it), issues SVIDs from a throwaway
 * CA, renews over mTLS, and on demand refuses with a problem document, evicts, bans, or goes
 * down and comes back on the same port. It checks what the agent sends with core's schemas, so
 * a request the real server would reject fails here too.
 */
export class FakeServer {
  readonly ca: TestCa
  readonly trustDomain: string
  readonly attestations: RecordedAttestation[] = []
  readonly renewals: RecordedRenewal[] = []
  readonly issued: IssuedSvid[] = []
  readonly #options: FakeServerOptions
  readonly #now: () => number
  readonly #scripted: Array<ScriptedRefusal | RawAnswer> = []
  #alwaysRefuse: ScriptedRefusal | undefined
  readonly #holds: Array<{ arrive(): void; released: Promise<void> }> = []
  readonly #currentSerialById = new Map<string, string>()
  readonly #banned = new Set<string>()
  readonly #serving: { certPem: string; keyPem: string }
  #app: FastifyInstance | undefined
  #port = 0

  private constructor(options: FakeServerOptions, ca: TestCa, serving: { certPem: string; keyPem: string }) {
    this.#options = options
    this.ca = ca
    this.trustDomain = options.trustDomain ?? 'example.org'
    this.#now = options.now ?? Date.now
    this.#serving = serving
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const ca = options.ca ?? (await TestCa.create())
    const trustDomain = options.trustDomain ?? 'example.org'
    const serving = await ca.issueWithKey({
      uris: [options.servingId ?? serverSpiffeId(trustDomain)],
      dnsNames: ['localhost'],
      ips: ['127.0.0.1'],
      ...(options.servingExtendedKeyUsages === undefined
        ? {}
        : { extendedKeyUsages: options.servingExtendedKeyUsages }),
    })
    const server = new FakeServer(options, ca, serving)
    await server.#listen(0)
    return server
  }

  get port(): number {
    return this.#port
  }

  /** Answers the next requests (attest or renew, in arrival order) with these refusals. */
  refuseNext(...refusals: ScriptedRefusal[]): void {
    this.#scripted.push(...refusals)
  }

  /** Answers the next request with exactly this status, content type and body. */
  answerNextRaw(answer: RawAnswer): void {
    this.#scripted.push(answer)
  }

  /**
   * Holds the next attestation once it has arrived and been recorded, before an SVID is
   * minted, until released: the moment a real server is recording it.
   */
  holdNextAttestation(): HeldAttestation {
    const arrived = Promise.withResolvers<void>()
    const released = Promise.withResolvers<void>()
    this.#holds.push({ arrive: arrived.resolve, released: released.promise })
    return { arrived: arrived.promise, release: released.resolve }
  }

  /** Answers every request with `refusal` until called again with `undefined`. */
  refuseAlways(refusal: ScriptedRefusal | undefined): void {
    this.#alwaysRefuse = refusal
  }

  /** Forgets the agent: its SVID no longer renews (`ATT_ERR_SVID_NOT_CURRENT`). */
  evict(spiffeId: string): void {
    this.#currentSerialById.delete(spiffeId)
  }

  /** Bans the agent: attest and renew answer `ATT_ERR_AGENT_BANNED`. */
  ban(spiffeId: string): void {
    this.#banned.add(spiffeId)
  }

  /** Goes down: the port stops answering (connections are refused) until {@link restart}. */
  async stop(): Promise<void> {
    const app = this.#app
    this.#app = undefined
    await app?.close()
  }

  /** Comes back on the same port. */
  async restart(): Promise<void> {
    if (this.#app !== undefined) throw new Error('FakeServer.restart() while running')
    await this.#listen(this.#port)
  }

  async close(): Promise<void> {
    await this.stop()
  }

  async #listen(port: number): Promise<void> {
    const app = Fastify({
      https: {
        cert: this.#serving.certPem,
        key: this.#serving.keyPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      forceCloseConnections: true,
    })
    app.post(WIRE_PATHS.attest, async (request, reply) => {
      if (!checkAttestRequest.Check(request.body))
        return problem(reply, { status: 400, code: 'ATT_ERR_BAD_REQUEST' })
      return this.#attest(request.body, reply)
    })
    app.post(WIRE_PATHS.renew, async (request, reply) => {
      if (!checkRenewRequest.Check(request.body))
        return problem(reply, { status: 400, code: 'ATT_ERR_BAD_REQUEST' })
      return this.#renew(request.body, request.raw.socket as TLSSocket, reply)
    })
    await app.listen({ host: '127.0.0.1', port })
    this.#app = app
    this.#port = (app.server.address() as AddressInfo).port
  }

  async #attest(body: AttestRequest, reply: FastifyReply): Promise<SvidResponse | FastifyReply> {
    const { type, payload } = body.attestation
    this.attestations.push({ type, cluster: payload.cluster, token: payload.token, at: this.#now() })
    const hold = this.#holds.shift()
    if (hold !== undefined) {
      hold.arrive()
      await hold.released
    }
    const scripted = this.#scripted.shift() ?? this.#alwaysRefuse
    if (scripted !== undefined) return answer(reply, scripted)
    const spiffeId =
      type === 'k8s_psat'
        ? psatAgentId({
            trustDomain: this.trustDomain,
            cluster: payload.cluster,
            source: 'node_uid',
            uid: this.#options.nodeUid ?? 'node-uid-1',
          })
        : satAgentId({ trustDomain: this.trustDomain, cluster: payload.cluster, uuid: randomUUID() })
    if (this.#banned.has(spiffeId)) return problem(reply, { status: 403, code: 'ATT_ERR_AGENT_BANNED' })
    return this.#issue(spiffeId, body.csr, type === 'k8s_psat')
  }

  async #renew(
    body: RenewRequest,
    socket: TLSSocket,
    reply: FastifyReply,
  ): Promise<SvidResponse | FastifyReply> {
    const clientId = this.#verifiedClientId(socket)
    this.renewals.push({ clientId: clientId?.spiffeId, at: this.#now() })
    const scripted = this.#scripted.shift() ?? this.#alwaysRefuse
    if (scripted !== undefined) return answer(reply, scripted)
    if (clientId === undefined) return problem(reply, { status: 401, code: 'ATT_ERR_UNAUTHENTICATED' })
    if (this.#banned.has(clientId.spiffeId))
      return problem(reply, { status: 403, code: 'ATT_ERR_AGENT_BANNED' })
    if (this.#currentSerialById.get(clientId.spiffeId) !== clientId.serialNumber) {
      return problem(reply, { status: 401, code: 'ATT_ERR_SVID_NOT_CURRENT' })
    }
    return this.#issue(clientId.spiffeId, body.csr, false)
  }

  /** The client certificate's ID and serial, if it chains to our CA and is valid on our clock. */
  #verifiedClientId(socket: TLSSocket): { spiffeId: string; serialNumber: string } | undefined {
    const peer = socket.getPeerCertificate()
    if (peer.raw === undefined) return undefined
    const certificate = new X509Certificate(peer.raw)
    const ca = new X509Certificate(this.ca.certPem)
    const now = this.#now()
    if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) return undefined
    if (certificate.validFromDate.getTime() > now || certificate.validToDate.getTime() <= now)
      return undefined
    const [spiffeId] = uriSansOf(certificate.raw)
    return spiffeId === undefined
      ? undefined
      : { spiffeId, serialNumber: certificate.serialNumber.toLowerCase() }
  }

  /**
   * When set, every SVID is issued for this SPIFFE ID instead of the one the request earns (a
   * server that erred, or hands out another identity); the answer's `spiffe_id` names it too.
   */
  issueAs: string | undefined

  async #issue(earned: string, csrPem: string, reattestable: boolean): Promise<SvidResponse> {
    const spiffeId = this.issueAs ?? earned
    const now = this.#now()
    const notAfter = new Date(now + (this.#options.svidTtlMs ?? 3_600_000))
    const leafPem = await this.ca.issueLeaf({
      publicKey: await csrPublicKey(csrPem),
      uris: [spiffeId],
      notBefore: new Date(now),
      notAfter,
    })
    const serialNumber = new X509Certificate(leafPem).serialNumber.toLowerCase()
    this.#currentSerialById.set(spiffeId, serialNumber)
    this.issued.push({ spiffeId, serialNumber, notAfter })
    return {
      spiffe_id: spiffeId,
      svid: [leafPem],
      bundle: [this.ca.certPem],
      selectors: [{ type: 'k8s_psat', value: 'cluster:demo' }],
      expires_at: notAfter.toISOString(),
      reattestable,
    }
  }
}

function answer(reply: FastifyReply, scripted: ScriptedRefusal | RawAnswer): FastifyReply {
  if ('body' in scripted) return reply.code(scripted.status).type(scripted.contentType).send(scripted.body)
  return problem(reply, scripted)
}

function problem(reply: FastifyReply, refusal: ScriptedRefusal): FastifyReply {
  const body: Problem = {
    type: `urn:k8s-attest:error:${refusal.code}`,
    title: refusal.code,
    status: refusal.status,
    detail: refusal.detail ?? `refused with ${refusal.code}`,
    code: refusal.code,
    ...(refusal.check === undefined ? {} : { check: refusal.check }),
    ...(refusal.retryAfterSeconds === undefined ? {} : { retry_after_seconds: refusal.retryAfterSeconds }),
  }
  if (refusal.retryAfterSeconds !== undefined) reply.header('retry-after', String(refusal.retryAfterSeconds))
  return reply.code(refusal.status).type(PROBLEM_CONTENT_TYPE).send(body)
}

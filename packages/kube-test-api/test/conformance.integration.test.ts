import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.ts'
import { isJsonObject, type JsonObject, type JsonValue } from '../src/json.ts'
import { type KubeTestApi, startKubeTestApi } from '../src/test-api.ts'
import { type HttpResponse, type OpenStream, openStream, send } from './support/https-client.ts'
import {
  loadRecording,
  type RecordedEntry,
  type RecordedExchange,
  type RecordedWatch,
  type Recording,
} from './support/recordings.ts'
import { ReplayMap } from './support/replay-map.ts'

/**
 * Conformance: every exchange recorded from kube-apiserver v1.32.13 is
 * replayed, in order, against a fresh test API, and every answer must agree
 * field for field (random values by shape and consistency, see ReplayMap),
 * in the same key order and the same formatting (indentation, trailing
 * newline).
 *
 * The test API's clock is set to the recorded time of each exchange (read
 * from the times the recorded answers carry), so token lifetimes, the 60 s
 * grace of a terminating pod and the 10 s TokenReview cache behave as they
 * did on the recording's timeline, and timestamps are compared exactly.
 *
 * Nothing is skipped. What the recordings do not say, the plan below states:
 * who calls (admin unless noted), and which Accept header the JWKS calls sent.
 * One allowance, explained in ReplayMap: a list's resourceVersion may stay at
 * the test API's last write where the recorded cluster's own components
 * (lease renewals) had written in between.
 */

/** Who sends a request. */
type Caller =
  | { readonly kind: 'admin' }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'invalid-token' }
  /** A service account, with the token the TokenRequest at `tokenFrom` returned. */
  | { readonly kind: 'service-account'; readonly tokenFrom: number }

interface ReplayPlan {
  readonly file: string
  /** The recorder's User-Agent (its field manager in managedFields); none for `unknown`. */
  readonly userAgent?: string
  readonly callers: Readonly<Record<number, Caller>>
  /** Accept headers the labels name; others send none. */
  readonly accept: Readonly<Record<number, string>>
  /** A watch recorded after the exchanges it observed: it starts right after `startsAfter`. */
  readonly watch?: { readonly index: number; readonly startsAfter: number; readonly listIndex: number }
}

const spireServer = (tokenFrom: number): Caller => ({ kind: 'service-account', tokenFrom })

const PLANS: readonly ReplayPlan[] = [
  {
    file: 'v1.32.13-exchanges.json',
    userAgent: 'Python-urllib/3.12',
    callers: {
      5: { kind: 'anonymous' },
      6: { kind: 'anonymous' },
      38: spireServer(36),
      40: spireServer(36),
      41: spireServer(36),
    },
    // Entry 6's 403 is indented, which kube-apiserver does when the Accept
    // header names no serializer it has: the JWKS media type.
    accept: { 2: 'application/json', 3: 'application/jwk-set+json', 6: 'application/jwk-set+json' },
  },
  {
    file: 'v1.32.13-exchanges-watch-rbac.json',
    callers: {
      3: { kind: 'invalid-token' },
      ...Object.fromEntries(
        [14, 15, 16, 17, 18, 19, 20, 23, 24, 25, 26, 27].map((index) => [index, spireServer(13)]),
      ),
    },
    accept: {},
    // "create pod (during watch)" … "force delete pod (during watch)": the
    // watch of entry 10 was opened after the list of entry 6.
    watch: { index: 10, startsAfter: 6, listIndex: 6 },
  },
]

/** The latest time a recorded answer carries: when the request was served. */
function recordedTime(entry: RecordedEntry): number | undefined {
  const times: number[] = []
  const visit = (value: JsonValue, key: string): void => {
    if (typeof value === 'string' && (key === 'time' || key === 'creationTimestamp')) {
      const parsed = Date.parse(value)
      if (!Number.isNaN(parsed)) times.push(parsed)
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, key)
    } else if (isJsonObject(value)) {
      for (const [childKey, child] of Object.entries(value)) visit(child, childKey)
    }
  }
  if (entry.kind === 'exchange' && entry.response !== null) visit(entry.response, '')
  if (entry.kind === 'decoded-jwt' && typeof entry.claims.iat === 'number')
    times.push(entry.claims.iat * 1000)
  return times.length === 0 ? undefined : Math.max(...times)
}

/** The first key of a recorded JWKS answer. */
function jwkOf(entry: RecordedEntry | undefined): JsonObject {
  const response = entry?.kind === 'exchange' ? entry.response : undefined
  const key = isJsonObject(response) && Array.isArray(response.keys) ? response.keys[0] : undefined
  if (!isJsonObject(key)) throw new Error('the recording has no JWKS at entry 3')
  return key
}

/** The recorded cluster's signing key (both recordings were made against the same cluster). */
const RECORDED_JWK = jwkOf(loadRecording('v1.32.13-exchanges.json').entries[3])

function rawFormat(raw: string): string {
  return `${raw.startsWith('{\n') ? 'indented' : 'compact'}, ${raw.endsWith('\n') ? 'with' : 'without'} trailing newline`
}

function parseLines(raw: string): JsonValue[] {
  return raw
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as JsonValue)
}

describe.each(PLANS)('replaying $file', (plan) => {
  const recording: Recording = loadRecording(plan.file)
  const exchanges = new Map(
    recording.entries
      .filter((entry): entry is RecordedExchange => entry.kind === 'exchange')
      .map((e) => [e.index, e]),
  )
  const start = Math.min(
    ...recording.entries.map(recordedTime).filter((time): time is number => time !== undefined),
  )
  const clock = new ManualClock(start)
  let api: KubeTestApi
  let map: ReplayMap
  let lastIssuedToken: string | undefined
  let openWatch: { stream: OpenStream; startedAt: number } | undefined

  beforeAll(async () => {
    api = await startKubeTestApi({ clock })
    map = new ReplayMap(RECORDED_JWK, {
      signToken: (claims) => api.signToken(claims),
      keyId: String(api.jwk.kid),
    })
    map.set(recording.url, api.url)
  })

  afterAll(async () => {
    await api.stop()
  })

  function headersFor(
    index: number,
    withBody: boolean,
    contentType = 'application/json',
  ): Record<string, string> {
    const headers: Record<string, string> = {}
    if (plan.userAgent !== undefined) headers['User-Agent'] = plan.userAgent
    const accept = plan.accept[index]
    if (accept !== undefined) headers.Accept = accept
    if (withBody) headers['Content-Type'] = contentType
    const caller = plan.callers[index] ?? { kind: 'admin' }
    switch (caller.kind) {
      case 'admin':
        headers.Authorization = `Bearer ${api.admin.token}`
        break
      case 'invalid-token':
        headers.Authorization = 'Bearer not-a-valid-token'
        break
      case 'service-account': {
        const issued = exchanges.get(caller.tokenFrom)?.response
        const recordedToken =
          isJsonObject(issued) && isJsonObject(issued.status) ? String(issued.status.token) : ''
        headers.Authorization = `Bearer ${map.get(recordedToken) ?? ''}`
        break
      }
      case 'anonymous':
        break
    }
    return headers
  }

  function translatedPath(path: string): string {
    const url = new URL(path, 'https://recorded.invalid')
    for (const [name, value] of url.searchParams) url.searchParams.set(name, String(map.translate(value)))
    return `${url.pathname}${url.search}`
  }

  async function replayExchange(entry: RecordedExchange): Promise<HttpResponse> {
    const withBody = entry.request !== null
    const contentType =
      entry.method === 'PATCH' ? 'application/strategic-merge-patch+json' : 'application/json'
    const body = withBody ? JSON.stringify(map.translate(entry.request)) : undefined
    return send(api.url, api.caCertificatePem, {
      method: entry.method,
      path: translatedPath(entry.path),
      headers: headersFor(entry.index, withBody, contentType),
      ...(body === undefined ? {} : { body }),
    })
  }

  async function startWatch(watch: RecordedWatch): Promise<void> {
    const list = exchanges.get(plan.watch?.listIndex ?? -1)?.response
    const listVersion =
      isJsonObject(list) && isJsonObject(list.metadata) ? String(list.metadata.resourceVersion) : ''
    const path = watch.path.replace('<rv>', map.get(listVersion) ?? '')
    const stream = await openStream(api.url, api.caCertificatePem, {
      method: watch.method,
      path,
      headers: headersFor(watch.index, false),
    })
    openWatch = { stream, startedAt: clock.now() }
  }

  for (const entry of recording.entries) {
    it(`#${entry.index} ${entry.label}`, async () => {
      const time = recordedTime(entry)
      if (time !== undefined && time > clock.now()) clock.set(time)

      if (entry.kind === 'decoded-jwt') {
        expect(lastIssuedToken, 'a TokenRequest precedes every decoded JWT').toBeDefined()
        const [header = '', claims = ''] = (lastIssuedToken ?? '').split('.')
        const decode = (part: string): JsonValue =>
          JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as JsonValue
        expect(map.compare(entry.header, decode(header), 'header')).toEqual([])
        expect(map.compare(entry.claims, decode(claims), 'claims')).toEqual([])
        return
      }

      if (entry.kind === 'watch') {
        expect(openWatch, 'the watch was opened before the changes it observes').toBeDefined()
        const { stream, startedAt } = openWatch as { stream: OpenStream; startedAt: number }
        const timeoutSeconds = Number(
          new URL(entry.path, 'https://recorded.invalid').searchParams.get('timeoutSeconds'),
        )
        clock.set(Math.max(clock.now(), startedAt + timeoutSeconds * 1000))
        const events = parseLines(await stream.done)
        expect(stream.status).toBe(entry.responseStatus)
        expect(stream.headers['content-type']).toBe(entry.responseHeaders['Content-Type'])
        expect(stream.headers['transfer-encoding']).toBe(entry.responseHeaders['Transfer-Encoding'])
        expect(map.compare([...entry.events], events, 'events')).toEqual([])
        return
      }

      const watchPlan = plan.watch
      const isWatchRequest = new URL(entry.path, 'https://recorded.invalid').searchParams.has('watch')
      let response: HttpResponse
      if (isWatchRequest) {
        // A watch with timeoutSeconds: open it, let its time run out, read everything it sent.
        const timeoutSeconds = Number(
          new URL(entry.path, 'https://recorded.invalid').searchParams.get('timeoutSeconds'),
        )
        const stream = await openStream(api.url, api.caCertificatePem, {
          method: entry.method,
          path: translatedPath(entry.path),
          headers: headersFor(entry.index, false),
        })
        clock.advance(timeoutSeconds * 1000)
        response = { status: stream.status, headers: stream.headers, raw: await stream.done }
        expect(response.status).toBe(entry.status)
        expect(map.compare(parseLines(entry.responseRaw), parseLines(response.raw), 'events')).toEqual([])
      } else {
        response = await replayExchange(entry)
        expect(response.status, response.raw).toBe(entry.status)
        expect(rawFormat(response.raw)).toBe(rawFormat(entry.responseRaw))
        expect(map.compare(entry.response, JSON.parse(response.raw) as JsonValue, 'body')).toEqual([])
        const body = JSON.parse(response.raw) as JsonValue
        if (isJsonObject(body) && body.kind === 'TokenRequest' && isJsonObject(body.status)) {
          lastIssuedToken = String(body.status.token)
        }
      }
      if (watchPlan !== undefined && entry.index === watchPlan.startsAfter) {
        const watchEntry = recording.entries[watchPlan.index]
        if (watchEntry?.kind !== 'watch') throw new Error(`entry ${watchPlan.index} is not a watch`)
        await startWatch(watchEntry)
      }
    })
  }
})

import type { ServerResponse } from 'node:http'
import type { Clock } from './clock.ts'
import { startStream } from './http.ts'
import { cloneJson, type JsonObject, objectAt } from './json.ts'
import { apiVersionOf, type ResourceDefinition, storeKeyOf } from './resources/definition.ts'
import { canonicalize } from './schema.ts'
import type { ObjectMatcher } from './selectors.ts'
import { badRequest, resourceExpired } from './status.ts'
import type { ObjectStore, StoreEvent } from './store.ts'

/**
 * Watches (`?watch=1`): a chunked stream of `{"type": …, "object": …}` lines.
 *
 * - Without a resourceVersion (or with `0`) the stream starts with an
 *   `ADDED` event per existing object, then follows changes.
 * - With one, it replays the changes after it from the history; a version
 *   older than the history gets 200 and one `ERROR` event carrying a 410
 *   `Expired` Status, as kube-apiserver answers, and clients relist.
 * - Changes are filtered as the watch cache filters them: an object that
 *   stops matching the selectors is reported `DELETED`, one that starts
 *   matching `ADDED`.
 * - With `allowWatchBookmarks=true`, BOOKMARK events (an empty object with
 *   the current resourceVersion) are sent every minute and, as the watch
 *   cache does, in the last seconds before the watch times out.
 * - The stream ends after `timeoutSeconds` (default: 30–60 minutes, at
 *   random, like `--min-request-timeout`), measured on the cluster's clock.
 */

/** `--min-request-timeout`: watches without `timeoutSeconds` last between one and two of these. */
export const MIN_REQUEST_TIMEOUT_SECONDS = 1800
/** How often the watch cache sends a bookmark to a long watch. */
export const BOOKMARK_INTERVAL_MS = 60_000

/** What one watch serves. */
export interface WatchRequest {
  readonly definition: ResourceDefinition
  /** The namespace to watch, or `undefined` for all. */
  readonly namespace: string | undefined
  readonly matchers: readonly ObjectMatcher[]
  /** The `resourceVersion` parameter as sent (`undefined` when absent). */
  readonly resourceVersion: string | undefined
  readonly allowBookmarks: boolean
  /** `timeoutSeconds`, or `undefined` for the server's default. */
  readonly timeoutSeconds: number | undefined
}

/** What a watch needs from the cluster. */
export interface WatchEnvironment {
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: () => number
  /** Where the stream registers how to end it, while it is open. */
  readonly openWatches: Set<() => void>
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

/**
 * Starts streaming `request` to `res`. A bad `resourceVersion` is a 400
 * (thrown before anything is written); everything after that is the stream.
 */
export function serveWatch(request: WatchRequest, res: ServerResponse, environment: WatchEnvironment): void {
  const { store, clock } = environment
  const storeKey = storeKeyOf(request.definition)
  const startVersion = parseResourceVersion(request.resourceVersion)
  const matches = (object: JsonObject | undefined): boolean => {
    if (object === undefined) return false
    const namespace = objectAt(object, 'metadata')?.namespace
    if (request.namespace !== undefined && namespace !== request.namespace) return false
    return request.matchers.every((matcher) => matcher(object))
  }

  startStream(res)
  const send = (type: WatchEventType, object: JsonObject): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`)
  }

  // Deliver a change the way the watch cache's `convertToWatchEvent` does.
  const deliver = (event: StoreEvent): void => {
    if (event.resource !== storeKey) return
    const current = event.type === 'DELETED' ? undefined : event.object
    const currentMatches = matches(current)
    const previousMatches = matches(event.previous)
    if (currentMatches && !previousMatches) send('ADDED', event.object)
    else if (currentMatches && previousMatches) send('MODIFIED', event.object)
    else if (!currentMatches && previousMatches) {
      const gone = event.type === 'DELETED' ? event.object : cloneJson(event.previous as JsonObject)
      const metadata = objectAt(gone, 'metadata')
      if (metadata !== undefined) metadata.resourceVersion = String(event.resourceVersion)
      send('DELETED', gone)
    }
  }

  if (startVersion === 0) {
    for (const object of store.list(storeKey, request.namespace)) if (matches(object)) send('ADDED', object)
  } else {
    const history = store.eventsSince(startVersion)
    if (!Array.isArray(history)) {
      // The watch cache's words (pods and nodes are served from it), not etcd's "The
      // resourceVersion for the provided watch is too old.": the version asked for, then the
      // oldest one a watch can still start from.
      const expired = `too old resource version: ${startVersion} (${history.oldestResourceVersion})`
      send('ERROR', resourceExpired(expired).toJSON())
      res.end()
      return
    }
    for (const event of history) deliver(event)
  }

  const timers: (() => void)[] = []
  const unsubscribe = store.subscribe(deliver)
  const finish = (): void => {
    environment.openWatches.delete(finish)
    unsubscribe()
    for (const cancel of timers) cancel()
    if (!res.writableEnded) res.end()
  }
  environment.openWatches.add(finish)
  res.on('close', finish)

  // timeoutSeconds=0 is no timeout asked for, as in the watch handler (minRequestTimeout applies).
  const timeoutMs =
    request.timeoutSeconds !== undefined && request.timeoutSeconds > 0
      ? request.timeoutSeconds * 1000
      : MIN_REQUEST_TIMEOUT_SECONDS * 1000 * (1 + environment.random())
  timers.push(clock.setTimer(timeoutMs, finish))

  if (request.allowBookmarks) {
    const bookmark = (): void => {
      const object = canonicalize(request.definition.schema, {
        kind: request.definition.kind,
        apiVersion: apiVersionOf(request.definition),
        metadata: { resourceVersion: String(store.resourceVersion) },
      }) as JsonObject
      send('BOOKMARK', object)
    }
    const every = (): void => {
      bookmark()
      timers.push(clock.setTimer(BOOKMARK_INTERVAL_MS, every))
    }
    timers.push(clock.setTimer(BOOKMARK_INTERVAL_MS, every))
    // The watch cache dispatches bookmarks from one-second buckets: the one
    // due two seconds before the deadline goes out, is rescheduled into the
    // bucket it is already in, and goes out again a second later.
    if (timeoutMs > 2000) {
      timers.push(clock.setTimer(timeoutMs - 2000, bookmark))
      timers.push(clock.setTimer(timeoutMs - 1000, bookmark))
    }
  }
}

/** `0` for "from now, with the current state"; a 400 for anything that is not a version. */
function parseResourceVersion(value: string | undefined): number {
  if (value === undefined || value === '' || value === '0') return 0
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw badRequest(
      `invalid resource version: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`,
    )
  }
  return Number(value)
}

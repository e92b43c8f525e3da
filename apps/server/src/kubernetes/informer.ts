import {
  ApiException,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node'

/** A list or watch request an informer made, reported for metrics and tests. */
export interface InformerCall {
  readonly verb: 'list' | 'watch'
  /** HTTP status, or `"error"` when no answer came. */
  readonly code: string
}

/** Options of {@link Informer}. */
export interface InformerOptions<T extends KubernetesObject> {
  /** What it watches, for errors and logs: `"pods spire/spire-agent"`, `"nodes"`. */
  readonly name: string
  readonly config: KubeConfig
  /** The collection's path, e.g. `/api/v1/namespaces/spire/pods`. */
  readonly path: string
  /** `fieldSelector` for both list and watch (e.g. `spec.serviceAccountName=spire-agent`). */
  readonly fieldSelector?: string
  /** Lists the collection: called with {@link path} and {@link fieldSelector}, which the watch uses too. */
  /** Lists the collection; `signal` aborts when the list's generation is stopped (close, a replaced relist). */
  readonly list: (
    path: string,
    fieldSelector: string | undefined,
    signal: AbortSignal,
  ) => Promise<KubernetesListObject<T>>
  /**
   * Keeps only what attestation reads of each object (and its `metadata.resourceVersion`,
   * which the watch resumes from): a node object carries its image list and conditions, many
   * kilobytes that a cache of thousands of nodes would otherwise hold for nothing.
   */
  readonly trim: (object: T) => T
  /** How often the whole collection is listed again, correcting any drift. */
  readonly resyncMs: number
  /** First wait before restarting after an error; doubles up to {@link maxRestartDelayMs}. */
  readonly restartDelayMs: number
  readonly maxRestartDelayMs: number
  /** Every list and watch request. */
  readonly onCall?: (call: InformerCall) => void
  /** A list or watch failed; the informer restarts by itself. */
  readonly onError?: (error: unknown) => void
}

/**
 * How long a watch may stay silent before it is reopened (client-node's `Watch` aborts it): above
 * the minute between the bookmarks kube-apiserver sends a watch that asks for them, so a quiet
 * collection's watch lives until the API server ends it and resumes from a recent
 * resourceVersion. client-node's own default, 30 s, reopened a quiet watch from the list's
 * resourceVersion twice a minute, which kube-apiserver answers with 410 Gone (and a relist) once
 * that version leaves its watch cache.
 */
export const WATCH_INACTIVITY_TIMEOUT_MS = 90_000

/** The API server ends each watch after this long or up to twice it (`timeoutSeconds`), as client-go's reflector asks. */
export const MIN_WATCH_TIMEOUT_SECONDS = 300

/**
 * A cache of one Kubernetes collection kept current by list + watch: client-node's
 * `ListWatch` (which resumes from the last resourceVersion, relists on 410 Gone, and reopens a
 * watch the API server ended or that stayed silent), plus what it leaves to its caller:
 * restarting after an error with backoff, a periodic full relist, bookmarks, and trimmed objects.
 *
 * A relist builds a second `ListWatch` and swaps it in once its list has loaded, so lookups
 * never see an empty cache in between; a relist that fails is retried like any other error.
 */
export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>
  #current: Generation<T>
  /** The generation a relist is loading, until it replaces {@link #current}. */
  #next: Generation<T> | undefined
  #restartDelayMs: number
  #timers = new Set<NodeJS.Timeout>()
  #closed = false
  #synced: Promise<void>

  constructor(options: InformerOptions<T>) {
    this.#options = options
    this.#restartDelayMs = options.restartDelayMs
    this.#current = this.#open()
    this.#synced = this.#current.listed
    this.#start(this.#current)
    this.#schedule(options.resyncMs, () => this.#resync())
  }

  /** Resolves once the first list has loaded (lookups before then fall back to the API). */
  synced(): Promise<void> {
    return this.#synced
  }

  /** The cached object, or `undefined` (absent, or not seen yet). */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#current.listWatch.get(name, namespace)
  }

  /** Stops watching; the cache is dropped. */
  async close(): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    const next = this.#next
    this.#next = undefined
    await stopGeneration(this.#current)
    if (next !== undefined) await stopGeneration(next)
  }

  /** A new generation, not started yet. */
  #open(): Generation<T> {
    const options = this.#options
    let markListed: () => void = () => {}
    const listed = new Promise<void>((resolve) => {
      markListed = resolve
    })
    const onCall = options.onCall ?? (() => {})
    const stopped = new AbortController()
    const list = async (): Promise<KubernetesListObject<T>> => {
      try {
        const result = await options.list(options.path, options.fieldSelector, stopped.signal)
        onCall({ verb: 'list', code: '200' })
        return { ...result, items: result.items.map(options.trim) }
      } catch (error) {
        onCall({ verb: 'list', code: statusOf(error) })
        throw error
      }
    }
    const watch = new TrimmingWatch(options.config, options.trim, {
      // ListWatch opens its watch right after loading a list: the cache is complete now.
      onWatch: markListed,
      onHealthy: () => {
        this.#restartDelayMs = options.restartDelayMs
      },
      onCall,
    })
    const listWatch = new ListWatch<T>(options.path, watch, list, false, undefined, options.fieldSelector)
    const generation: Generation<T> = { listWatch, watch, listed, stopped }
    listWatch.on('error', (error: unknown) => this.#failed(generation, error))
    return generation
  }

  /** Starts (or restarts) `generation`: its list, then its watch. */
  #start(generation: Generation<T>): void {
    // ListWatch reports failures as `error` events; a rejection here would be a fault of its
    // own (or of the watch) that must still restart the informer rather than go unhandled.
    generation.listWatch.start().catch((error: unknown) => this.#failed(generation, error))
  }

  /** A list or watch of `generation` failed: report it and start it again after the backoff. */
  #failed(generation: Generation<T>, error: unknown): void {
    // A stopped generation's watch ends with an AbortError: that is not a failure.
    if (!this.#isLive(generation)) return
    this.#options.onError?.(error)
    const delay = this.#restartDelayMs
    this.#restartDelayMs = Math.min(delay * 2, this.#options.maxRestartDelayMs)
    this.#schedule(delay, () => {
      if (this.#isLive(generation)) this.#start(generation)
    })
  }

  #isLive(generation: Generation<T>): boolean {
    return !this.#closed && (generation === this.#current || generation === this.#next)
  }

  async #resync(): Promise<void> {
    if (this.#closed) return
    const next = this.#open()
    this.#next = next
    this.#start(next)
    await next.listed
    if (this.#closed) {
      await stopGeneration(next)
      return
    }
    this.#next = undefined
    const previous = this.#current
    this.#current = next
    await stopGeneration(previous)
    this.#schedule(this.#options.resyncMs, () => this.#resync())
  }

  #schedule(delayMs: number, run: () => unknown): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      void run()
    }, delayMs)
    timer.unref()
    this.#timers.add(timer)
  }
}

/** One ListWatch and its Watch: a relist replaces both. */
interface Generation<T extends KubernetesObject> {
  readonly listWatch: ListWatch<T>
  readonly watch: TrimmingWatch<T>
  /** Resolves once its list has loaded. */
  readonly listed: Promise<void>
  /** Aborts its list in flight: a stopped generation must not send one after its informer closed. */
  readonly stopped: AbortController
}

async function stopGeneration<T extends KubernetesObject>(generation: Generation<T>): Promise<void> {
  generation.stopped.abort(new Error('the informer stopped'))
  await generation.listWatch.stop()
  generation.watch.stop()
}

/** What a {@link TrimmingWatch} tells its informer. */
interface WatchObserver {
  /** A watch is being opened (ListWatch opens one right after each list it loaded). */
  readonly onWatch: () => void
  /** A watch delivered an event, or ran until the API server or the silence timeout ended it. */
  readonly onHealthy: () => void
  /** Every watch request, with its status. */
  readonly onCall: (call: InformerCall) => void
}

/**
 * How long client-node's `Watch` waits for an answer and then for each chunk before it aborts
 * the watch: a TypeScript-private field of `Watch` 2.0.1 (the version is pinned exactly), a
 * plain property at run time; the informer's tests hold its effect.
 */
interface SilenceTimeout {
  requestTimeoutMs: number
}

/**
 * client-node's `Watch`, asking for bookmarks (so a quiet collection's resourceVersion stays
 * recent and a reopened watch rarely needs a relist) and for a server-side timeout, waiting
 * longer than a bookmark's interval before giving up on a silent watch, trimming every object,
 * and reporting each watch request.
 */
class TrimmingWatch<T extends KubernetesObject> extends Watch {
  readonly #trim: (object: T) => T
  readonly #observer: WatchObserver
  readonly #open = new Set<AbortController>()
  #stopped = false

  constructor(config: KubeConfig, trim: (object: T) => T, observer: WatchObserver) {
    super(config)
    ;(this as unknown as SilenceTimeout).requestTimeoutMs = WATCH_INACTIVITY_TIMEOUT_MS
    this.#trim = trim
    this.#observer = observer
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    // ListWatch.stop() during its reconnect delay does not keep it from opening one more watch.
    if (this.#stopped) return abortedController()
    this.#observer.onWatch()
    let reported = false
    const report = (code: string) => {
      if (!reported) this.#observer.onCall({ verb: 'watch', code })
      reported = true
    }
    // client-node calls `end` before it returns the controller when the request fails before
    // an answer (refused, reset, a status other than 200), so `controller` may still be unset.
    let controller: AbortController | undefined
    let ended = false
    const end = (error: unknown) => {
      ended = true
      if (controller !== undefined) this.#open.delete(controller)
      const clean = error === null || error === undefined
      report(clean ? '200' : statusOf(error))
      if (clean || isTimeout(error)) this.#observer.onHealthy()
      done(error)
    }
    const timeoutSeconds = Math.floor(MIN_WATCH_TIMEOUT_SECONDS * (1 + Math.random()))
    try {
      controller = await super.watch(
        path,
        { ...queryParams, allowWatchBookmarks: true, timeoutSeconds },
        (phase, object, raw) => {
          report('200')
          this.#observer.onHealthy()
          callback(
            phase,
            phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED'
              ? this.#trim(object as T)
              : object,
            raw,
          )
        },
        end,
      )
    } catch (error) {
      // Thrown before any request: no current cluster, or its credentials could not be applied
      // (an unreadable token file, a failing exec plugin). ListWatch learns it as from a failed watch.
      end(error)
      return abortedController()
    }
    // ListWatch.stop() aborts only a watch whose request it already holds; one still being
    // opened would run on until its timeout. Stopping this Watch aborts those too.
    if (this.#stopped || ended) controller.abort()
    else this.#open.add(controller)
    return controller
  }

  /** Aborts every open watch, and keeps any more from being opened. */
  stop(): void {
    this.#stopped = true
    for (const controller of this.#open) controller.abort()
    this.#open.clear()
  }
}

function abortedController(): AbortController {
  const controller = new AbortController()
  controller.abort()
  return controller
}

/** client-node's `Watch` ends a request that got no answer, or a watch that stayed silent, with a `TimeoutError`. */
function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'TimeoutError'
}

/** The HTTP status client-node's list (`ApiException.code`) or watch (`statusCode`) failed with. */
function statusOf(error: unknown): string {
  if (error instanceof ApiException) return String(error.code)
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode
  return typeof statusCode === 'number' ? String(statusCode) : 'error'
}

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
  readonly list: (path: string, fieldSelector: string | undefined) => Promise<KubernetesListObject<T>>
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
 * A cache of one Kubernetes collection kept current by list + watch: client-node's
 * `ListWatch` (which resumes from the last resourceVersion, relists on 410 Gone, and reopens a
 * watch the API server ended or that stayed silent for 30 s), plus what it leaves to its caller: restarting after an error
 * with backoff, a periodic full relist, bookmarks, and trimmed objects.
 *
 * A relist builds a second `ListWatch` and swaps it in once its list has loaded, so lookups
 * never see an empty cache in between.
 */
export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>
  #current: Generation<T>
  #restartDelayMs: number
  #timers = new Set<NodeJS.Timeout>()
  #closed = false
  #synced: Promise<void>

  constructor(options: InformerOptions<T>) {
    this.#options = options
    this.#restartDelayMs = options.restartDelayMs
    this.#current = this.#open()
    this.#synced = this.#current.listed
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
    await stopGeneration(this.#current)
  }

  #open(): Generation<T> {
    const options = this.#options
    let markListed: () => void = () => {}
    const listed = new Promise<void>((resolve) => {
      markListed = resolve
    })
    const onCall = options.onCall ?? (() => {})
    const list = async (): Promise<KubernetesListObject<T>> => {
      try {
        const result = await options.list(options.path, options.fieldSelector)
        onCall({ verb: 'list', code: '200' })
        return { ...result, items: result.items.map(options.trim) }
      } catch (error) {
        onCall({ verb: 'list', code: statusOf(error) })
        throw error
      }
    }
    const watch = new TrimmingWatch(
      options.config,
      options.trim,
      () => {
        // ListWatch opens its watch right after loading a list: the cache is complete now.
        markListed()
        this.#restartDelayMs = options.restartDelayMs
      },
      onCall,
    )
    const listWatch = new ListWatch<T>(options.path, watch, list, false, undefined, options.fieldSelector)
    listWatch.on('error', (error: unknown) => {
      // A stopped generation's watch ends with an AbortError: that is not a failure.
      if (this.#closed || listWatch !== this.#current.listWatch) return
      options.onError?.(error)
      const delay = this.#restartDelayMs
      this.#restartDelayMs = Math.min(delay * 2, options.maxRestartDelayMs)
      this.#schedule(delay, () => {
        if (!this.#closed && listWatch === this.#current.listWatch) void listWatch.start()
      })
    })
    void listWatch.start()
    return { listWatch, watch, listed }
  }

  async #resync(): Promise<void> {
    if (this.#closed) return
    const previous = this.#current
    const next = this.#open()
    await next.listed
    if (this.#closed) {
      await stopGeneration(next)
      return
    }
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
}

async function stopGeneration<T extends KubernetesObject>(generation: Generation<T>): Promise<void> {
  await generation.listWatch.stop()
  generation.watch.stop()
}

/**
 * client-node's `Watch`, asking for bookmarks (so a quiet collection's resourceVersion stays
 * recent and a reopened watch rarely needs a relist), trimming every object, and reporting
 * each watch request.
 */
class TrimmingWatch<T extends KubernetesObject> extends Watch {
  readonly #trim: (object: T) => T
  readonly #onWatch: () => void
  readonly #onCall: (call: InformerCall) => void
  readonly #open = new Set<AbortController>()
  #stopped = false

  constructor(
    config: KubeConfig,
    trim: (object: T) => T,
    onWatch: () => void,
    onCall: (call: InformerCall) => void,
  ) {
    super(config)
    this.#trim = trim
    this.#onWatch = onWatch
    this.#onCall = onCall
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    this.#onWatch()
    let reported = false
    const report = (code: string) => {
      if (!reported) this.#onCall({ verb: 'watch', code })
      reported = true
    }
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, object, raw) => {
        report('200')
        callback(
          phase,
          phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.#trim(object as T) : object,
          raw,
        )
      },
      (error: unknown) => {
        this.#open.delete(controller)
        report(error === null || error === undefined ? '200' : statusOf(error))
        done(error)
      },
    )
    // ListWatch.stop() aborts only a watch whose request it already holds; one still being
    // opened would run on until its timeout. Stopping this Watch aborts those too.
    if (this.#stopped) controller.abort()
    else this.#open.add(controller)
    return controller
  }

  /** Aborts every open watch, and any opened from now on. */
  stop(): void {
    this.#stopped = true
    for (const controller of this.#open) controller.abort()
    this.#open.clear()
  }
}

/** The HTTP status client-node's list (`ApiException.code`) or watch (`statusCode`) failed with. */
function statusOf(error: unknown): string {
  if (error instanceof ApiException) return String(error.code)
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode
  return typeof statusCode === 'number' ? String(statusCode) : 'error'
}

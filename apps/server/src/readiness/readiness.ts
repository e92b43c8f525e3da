import type { FastifyBaseLogger } from 'fastify'
import type { AgentStore } from '../datastore/agent-store.ts'
import { describePermission } from '../kubernetes/cluster-client.ts'
import { describeErrorChain } from '../logging/error-chain.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import {
  checkPermissions,
  type PermissionTarget,
  rbacRuleDestination,
  rbacRuleSnippet,
} from './permission-check.ts'

/** How old a passing permission check may get. Default 60 s: a revoked rule is noticed within a minute, or at once by an attestation it breaks. */
export const DEFAULT_PERMISSION_RECHECK_MS = 60_000

/**
 * How old a failing permission check may get before a probe checks again. Default 5 s: a
 * granted rule turns `/ready` green at the next probe (kubelet probes every 10 s by default),
 * while a storm of probes or refused attestations costs at most one round of
 * SelfSubjectAccessReviews per 5 s.
 */
export const DEFAULT_FAILING_RECHECK_MS = 5_000

/** Options of {@link Readiness}. */
export interface ReadinessOptions {
  readonly store: Pick<AgentStore, 'ping'>
  /** The clusters to check, with their required permissions. */
  readonly targets: readonly PermissionTarget[]
  readonly logger: FastifyBaseLogger
  /** How old a passing check may get (also the period of the background re-check). Default {@link DEFAULT_PERMISSION_RECHECK_MS}. */
  readonly recheckIntervalMs?: number
  /** How old a failing (or suspect) check may get before a probe re-checks. Default {@link DEFAULT_FAILING_RECHECK_MS}. */
  readonly failingRecheckIntervalMs?: number
  /** Milliseconds on a monotonic clock. Default `performance.now`. */
  readonly now?: () => number
}

/** What `/ready` reports. */
export interface ReadinessReport {
  readonly ready: boolean
  /** Why not, one line per problem; empty when ready. */
  readonly problems: readonly string[]
}

/**
 * Whether the server can serve attestations (`/ready`): the datastore answers, and in every
 * cluster the server's identity holds the permissions attestation needs.
 *
 * The datastore is pinged on every probe. Permissions are asked of SelfSubjectAccessReview at
 * start, and again
 * - at a probe, when the last check is stale: older than 60 s while they were granted, older
 *   than 5 s while something was missing or could not be checked (so a fix shows at the next
 *   probe, not a minute later);
 * - at once when an attestation meets a refusal from the API server ({@link apiRefusedServer}:
 *   a revoked rule shows without waiting for the minute);
 * - in the background every 60 s, so changes are logged even without probes.
 *
 * Every change is logged once, when it happens — a missing rule with the exact ClusterRole or
 * Role rule to add, an API that cannot be asked with the whole error chain, the datastore
 * failing and recovering, and the readiness itself turning — never a line per failing probe.
 */
export class Readiness {
  readonly #options: ReadinessOptions
  readonly #now: () => number
  readonly #recheckMs: number
  readonly #failingRecheckMs: number
  /** Problems per cluster; a cluster not yet checked has an entry saying so. */
  readonly #permissionProblems = new Map<string, string>()
  #datastoreFailing = false
  /** The readiness last reported, for logging its changes; `undefined` before the first probe. */
  #lastReady: boolean | undefined
  /** When the latest permission check started. */
  #checkedAt = Number.NEGATIVE_INFINITY
  /** An attestation met a refusal since the last check: treat the check as failing. */
  #suspect = false
  #checking: Promise<void> | undefined
  /** The clusters checked; a configuration reload replaces them. */
  #targets: readonly PermissionTarget[]
  #timer: NodeJS.Timeout | undefined
  #firstCheck: Promise<void> | undefined

  constructor(options: ReadinessOptions) {
    this.#options = options
    this.#now = options.now ?? (() => performance.now())
    this.#recheckMs = options.recheckIntervalMs ?? DEFAULT_PERMISSION_RECHECK_MS
    this.#failingRecheckMs = options.failingRecheckIntervalMs ?? DEFAULT_FAILING_RECHECK_MS
    this.#targets = options.targets
    for (const target of options.targets) {
      this.#permissionProblems.set(keyOf(target), `${describe(target)}: permissions not checked yet`)
    }
  }

  /**
   * Checks these clusters from now on (a configuration reload changed them): problems of
   * clusters no longer configured are dropped, new clusters start "not checked yet", clusters
   * kept keep their last answer, and all are checked again now. Resolves when that check has
   * finished.
   */
  async replaceTargets(targets: readonly PermissionTarget[]): Promise<void> {
    const previous = new Set(this.#targets.map(keyOf))
    this.#targets = targets
    const keys = new Set(targets.map(keyOf))
    for (const key of this.#permissionProblems.keys()) {
      if (!keys.has(key)) this.#permissionProblems.delete(key)
    }
    for (const target of targets) {
      if (!previous.has(keyOf(target))) {
        this.#permissionProblems.set(keyOf(target), `${describe(target)}: permissions not checked yet`)
      }
    }
    // A check already running is of the old clusters: wait for it, then check the new ones.
    await this.#checking
    await this.checkPermissionsNow()
  }

  /** Starts the first check (not awaited: an unreachable API server must not hold up startup) and the periodic ones. */
  start(): void {
    this.#firstCheck ??= this.checkPermissionsNow()
    this.#timer ??= setInterval(() => {
      void this.checkPermissionsNow()
    }, this.#recheckMs).unref()
  }

  /** Resolves when the first permission check after {@link start} has finished. */
  async whenChecked(): Promise<void> {
    await this.#firstCheck
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * An attestation met a refusal of the server's own credentials by the API server
   * (`ATT_ERR_KUBE_API_FAILED`: a 401 or 403): the permissions are checked again now, or — if
   * they were checked less than the failing interval ago — at the next probe.
   */
  apiRefusedServer(): void {
    this.#suspect = true
    if (this.#now() - this.#checkedAt >= this.#failingRecheckMs) void this.checkPermissionsNow()
  }

  /**
   * Checks every cluster's permissions now, logging what changed. One check runs at a time:
   * a call while one runs waits for that one. Never rejects.
   */
  checkPermissionsNow(): Promise<void> {
    this.#checking ??= this.#checkAll().finally(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  /**
   * The current readiness: the datastore is pinged now; permissions are re-checked first when
   * stale, and a check already running (say, one an attestation's refusal started) is awaited.
   */
  async report(): Promise<ReadinessReport> {
    if (this.#checking !== undefined || this.#permissionsStale()) await this.checkPermissionsNow()
    const problems = [...this.#permissionProblems.values()]
    const datastoreError = await this.#options.store.ping().then(
      () => undefined,
      (error: unknown) => error ?? new Error('ping failed'),
    )
    this.#noteDatastore(datastoreError)
    if (datastoreError !== undefined) problems.unshift('the datastore does not answer')
    const ready = problems.length === 0
    if (ready !== this.#lastReady) {
      if (ready) this.#options.logger.info({ [LOG_FIELDS.check]: 'readiness' }, 'ready')
      else this.#options.logger.warn({ [LOG_FIELDS.check]: 'readiness' }, `not ready: ${problems.join('; ')}`)
      this.#lastReady = ready
    }
    return { ready, problems }
  }

  #permissionsStale(): boolean {
    const failing = this.#suspect || this.#permissionProblems.size > 0
    return this.#now() - this.#checkedAt >= (failing ? this.#failingRecheckMs : this.#recheckMs)
  }

  #noteDatastore(error: unknown): void {
    const { logger } = this.#options
    if (error !== undefined && !this.#datastoreFailing) {
      logger.error(
        { err: error, [LOG_FIELDS.check]: 'datastore_ping' },
        `datastore ping failed: ${describeErrorChain(error)}`,
      )
    } else if (error === undefined && this.#datastoreFailing) {
      logger.info({ [LOG_FIELDS.check]: 'datastore_ping' }, 'datastore answers again')
    }
    this.#datastoreFailing = error !== undefined
  }

  async #checkAll(): Promise<void> {
    this.#checkedAt = this.#now()
    this.#suspect = false
    await Promise.all(this.#targets.map((target) => this.#checkOne(target)))
  }

  async #checkOne(target: PermissionTarget): Promise<void> {
    const { logger } = this.#options
    const result = await checkPermissions(target)
    // A reload may have replaced the targets while this check ran: its answer is stale.
    if (!this.#targets.includes(target)) return
    const key = keyOf(target)
    const fields = { [LOG_FIELDS.cluster]: target.cluster, [LOG_FIELDS.attestor]: target.attestor }
    if (result.outcome === 'granted') {
      if (this.#permissionProblems.has(key))
        logger.info(fields, `${describe(target)}: all required permissions granted`)
      this.#permissionProblems.delete(key)
      return
    }
    // Logged when it starts or changes, not on every re-check: the rule is the same each time.
    if (result.outcome === 'missing') {
      const names = result.missing.map(describePermission).join(', ')
      const problem = `${describe(target)}: the server's identity may not ${names}`
      if (this.#permissionProblems.get(key) === problem) return
      this.#permissionProblems.set(key, problem)
      logger.error(
        {
          ...fields,
          [LOG_FIELDS.check]: 'rbac_permissions',
          missing: names,
          rbac_rule: rbacRuleSnippet(result.missing),
        },
        `${problem}; add these rules to ${rbacRuleDestination(result.missing)}:\n${rbacRuleSnippet(result.missing)}`,
      )
      return
    }
    // The cause in the line itself: "cannot check permissions" alone hid a GOAWAY.
    const problem = `${describe(target)}: cannot check permissions: ${describeErrorChain(result.error)}`
    if (this.#permissionProblems.get(key) === problem) return
    this.#permissionProblems.set(key, problem)
    logger.error({ ...fields, [LOG_FIELDS.check]: 'rbac_permissions', err: result.error }, problem)
  }
}

function keyOf(target: PermissionTarget): string {
  return `${target.attestor}/${target.cluster}`
}

function describe(target: PermissionTarget): string {
  return `cluster "${target.cluster}" (${target.attestor})`
}

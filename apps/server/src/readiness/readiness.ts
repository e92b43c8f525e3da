import type { FastifyBaseLogger } from 'fastify'
import type { AgentStore } from '../datastore/agent-store.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { checkPermissions, type PermissionTarget, rbacRuleSnippet } from './permission-check.ts'

/** How often permissions are checked again. Default 60 s: a newly granted rule is noticed within a minute. */
export const DEFAULT_PERMISSION_RECHECK_MS = 60_000

/** Options of {@link Readiness}. */
export interface ReadinessOptions {
  readonly store: Pick<AgentStore, 'ping'>
  /** The clusters to check, with their required permissions. */
  readonly targets: readonly PermissionTarget[]
  readonly logger: FastifyBaseLogger
  /** Interval of the periodic re-check. Default {@link DEFAULT_PERMISSION_RECHECK_MS}. */
  readonly recheckIntervalMs?: number
}

/** What `/ready` reports. */
export interface ReadinessReport {
  readonly ready: boolean
  /** Why not, one line per problem; empty when ready. */
  readonly problems: readonly string[]
}

/**
 * Whether the server can serve attestations: the datastore answers, and in every cluster the
 * server's identity holds the permissions attestation needs. Permissions are checked at start
 * and then periodically (a missing rule is logged with the exact ClusterRole rule to add, and
 * keeps `/ready` failing until it is granted); the datastore is pinged on every probe.
 */
export class Readiness {
  readonly #options: ReadinessOptions
  #targets: readonly PermissionTarget[]
  /** Problems per cluster; a cluster not yet checked has an entry saying so. */
  readonly #permissionProblems = new Map<string, string>()
  #timer: NodeJS.Timeout | undefined
  #firstCheck: Promise<void> | undefined

  constructor(options: ReadinessOptions) {
    this.#options = options
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
    await this.checkPermissionsNow()
  }

  /** Starts the first check (not awaited: an unreachable API server must not hold up startup) and the periodic ones. */
  start(): void {
    this.#firstCheck ??= this.checkPermissionsNow()
    this.#timer ??= setInterval(() => {
      void this.checkPermissionsNow()
    }, this.#options.recheckIntervalMs ?? DEFAULT_PERMISSION_RECHECK_MS).unref()
  }

  /** Resolves when the first permission check after {@link start} has finished. */
  async whenChecked(): Promise<void> {
    await this.#firstCheck
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Checks every cluster's permissions now, logging what is missing. Never rejects. */
  async checkPermissionsNow(): Promise<void> {
    const { logger } = this.#options
    await Promise.all(
      this.#targets.map(async (target) => {
        const result = await checkPermissions(target)
        // A reload may have replaced the targets while this check ran: its answer is stale.
        if (!this.#targets.includes(target)) return
        const key = keyOf(target)
        const fields = { [LOG_FIELDS.cluster]: target.cluster, [LOG_FIELDS.attestor]: target.attestor }
        if (result.outcome === 'granted') {
          if (this.#permissionProblems.has(key))
            logger.info(fields, `${describe(target)}: all required permissions granted`)
          this.#permissionProblems.delete(key)
        } else if (result.outcome === 'missing') {
          const names = result.missing.map((check) => `${check.verb} ${check.resource}`).join(', ')
          const problem = `${describe(target)}: the server's identity may not ${names}`
          // Logged when it starts or changes, not on every re-check: the rule is the same each time.
          const known = this.#permissionProblems.get(key) === problem
          this.#permissionProblems.set(key, problem)
          if (!known)
            logger.error(
              {
                ...fields,
                [LOG_FIELDS.check]: 'rbac_permissions',
                missing: names,
                rbac_rule: rbacRuleSnippet(result.missing),
              },
              `${problem}; add these rules to the server's ClusterRole:\n${rbacRuleSnippet(result.missing)}`,
            )
        } else {
          const problem = `${describe(target)}: cannot check permissions`
          this.#permissionProblems.set(key, problem)
          logger.error({ ...fields, [LOG_FIELDS.check]: 'rbac_permissions', err: result.error }, problem)
        }
      }),
    )
  }

  /** The current readiness: the datastore is pinged now; permissions as last checked. */
  async report(): Promise<ReadinessReport> {
    const problems = [...this.#permissionProblems.values()]
    try {
      await this.#options.store.ping()
    } catch (error) {
      this.#options.logger.error(
        { err: error, [LOG_FIELDS.check]: 'datastore_ping' },
        'datastore ping failed',
      )
      problems.unshift('the datastore does not answer')
    }
    return { ready: problems.length === 0, problems }
  }
}

function keyOf(target: PermissionTarget): string {
  return `${target.attestor}/${target.cluster}`
}

function describe(target: PermissionTarget): string {
  return `cluster "${target.cluster}" (${target.attestor})`
}

import type { KeyObject } from 'node:crypto'
import { join } from 'node:path'
import type { SvidResponse } from '@k8s-attest/core'
import type { Logger } from 'pino'
import { type AgentHandle, type AgentOutcome, SvidWaiters, svidInfo } from './agent-handle.ts'
import { type AtomicFileWriter, writeFileAtomic } from './atomic-file.ts'
import {
  type FailureContext,
  failureFields,
  logRetry,
  type RetriedAttempt,
  svidFields,
} from './attempt-log.ts'
import { Backoff } from './backoff.ts'
import type { AgentConfig } from './config.ts'
import { AgentError, ServerProblemError } from './errors.ts'
import { classifyFailure } from './failure.ts'
import { generateKeyAndCsr } from './keys-and-csr.ts'
import { createLogger, LOG_FIELDS as F } from './logger.ts'
import { type MetricsRecorder, NO_METRICS } from './metrics-recorder.ts'
import { restoreFromDataDir } from './restore-from-data-dir.ts'
import { REATTEST_ON_RENEWAL_CODES, type RenewalMethod, renewalMethod, rotationTime } from './rotation.ts'
import { type Scheduler, systemScheduler } from './scheduler.ts'
import { ServerClient } from './server-client.ts'
import { expectedServerId } from './spiffe.ts'
import { type AcceptedSvid, acceptSvidAnswer } from './svid-answer.ts'
import { BUNDLE_FILE_NAME, prepareDataDir, removeStoredSvid, storeBundle, storeSvid } from './svid-store.ts'
import { CLOCK_SKEW_TOLERANCE_MS, type HeldSvid } from './svid-verify.ts'
import { readTokenFile } from './token-file.ts'
import { bootstrapTrustBundle } from './trust-bootstrap.ts'
import { sameTrustBundle, type TrustBundle, widenTrustBundle } from './trust-bundle.ts'

// What an embedder needs next to runAgent, from this package's main entry point.
export {
  type AgentHandle,
  type AgentOutcome,
  AgentStoppedError,
  type SvidInfo,
} from './agent-handle.ts'
export type { AgentConfig } from './config.ts'
export type { MetricsRecorder } from './metrics-recorder.ts'
export type { Scheduler } from './scheduler.ts'

/** What {@link runAgent} needs from its surroundings; every field has a production default. */
export interface AgentDeps {
  /** Default: JSON lines on standard output at `config.logLevel`. */
  readonly logger?: Logger
  /** The clock and timers. Default: the system's. Tests inject a manual one. */
  readonly scheduler?: Scheduler
  /** Numbers in `[0, 1)` for backoff jitter. Default `Math.random`. */
  readonly random?: () => number
  /**
   * Where attempts and the held SVID are reported. Default: nowhere ({@link NO_METRICS}); the
   * CLI passes prom-client's `AgentMetrics` (metrics.ts) only when a metrics listener is configured.
   */
  readonly metrics?: MetricsRecorder
  /** CA certificates (PEM) that verify the `trust_bundle_url` fetch. Default: the system's. */
  readonly trustBundleUrlCa?: readonly string[]
  /**
   * Writes a file of data_dir atomically. Default {@link writeFileAtomic}. The one boundary
   * through which the agent writes data_dir, so tests can make it fail as a full disk does.
   */
  readonly writeFile?: AtomicFileWriter
}

/**
 * Longest `Retry-After` honoured. A server asking for more is probably misconfigured (a day
 * typed for a minute); an hour still respects it in spirit. It does not protect the SVID: one
 * with less than the server's wait left expires meanwhile, as the server asked.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000

/**
 * Longest single wait for the rotation time. The deadline is wall-clock time (the SVID's
 * `notAfter`) but Node's timers count monotonic time, which stands still while the host is
 * suspended or the VM paused, and ignores steps of the wall clock: one timer for the whole
 * wait to half-life (hours, with long TTLs) would fire that long after the host resumes,
 * possibly past the SVID's expiry. Waking this often to compare the clock costs nothing.
 */
export const MAX_ROTATION_WAIT_MS = 60_000

/**
 * How long `stop()` lets a k8s_sat attestation already sent run on: its token is single-use and
 * the server may be recording it, so an answer cut off would leave the agent, restarted on the
 * same data_dir, with a spent token and no SVID. Well within Kubernetes' default 30 s grace.
 */
export const SAT_ATTESTATION_STOP_GRACE_MS = 10_000

/**
 * Starts the agent: restore the SVID from data_dir if it is still valid, otherwise attest;
 * then keep it fresh, rotating at half its lifetime (k8s_psat attests again, k8s_sat renews
 * over mTLS), retrying failures with backoff, until stopped or banned. The CLI's `run` is this
 * plus a logger, a metrics listener and signal handling; tests and embedders call it directly.
 *
 * @example
 * ```ts
 * const agent = runAgent(await loadAgentConfig('agent.conf'))
 * const svid = await agent.nextSvid()
 * process.once('SIGTERM', () => void agent.stop())
 * ```
 */
export function runAgent(config: AgentConfig, deps: AgentDeps = {}): AgentHandle {
  return new AgentRunner(config, deps).start()
}

type ObtainedSvid = AcceptedSvid

/** Where the agent's trust in the server comes from (see `AgentRunner.#distrust`). */
type TrustSource = 'bootstrap' | 'data_dir' | 'server'

class AgentRunner {
  readonly #config: AgentConfig
  readonly #logger: Logger
  readonly #scheduler: Scheduler
  readonly #metrics: MetricsRecorder
  readonly #urlCa: readonly string[] | undefined
  readonly #backoff: Backoff
  readonly #client: ServerClient
  readonly #abort = new AbortController()
  readonly #waiters = new SvidWaiters()
  /** The bundle the server is verified with; `undefined` until bootstrap (or insecure bootstrap). */
  #bundle: TrustBundle | undefined
  /** Whether the client has been told how to verify the server. */
  #trustSet = false
  /**
   * Where that trust comes from: the configured bootstrap (trust_bundle_path, trust_bundle_url
   * or insecure_bootstrap), the bundle a previous run left in data_dir, or the server's answer.
   */
  #trustSource: TrustSource | undefined
  /** Said once: under trust_bundle_url or insecure_bootstrap a held bundle is not given up. */
  #toldCannotRebootstrap = false
  /** Whether {@link #bundle} is the one in data_dir (not yet, right after a bootstrap). */
  #bundleStored = false
  #held: HeldSvid | undefined
  readonly #writeFile: AtomicFileWriter
  /** The held SVID is not in data_dir yet (its write failed): the next attempt stores it. */
  #unstored = false

  constructor(config: AgentConfig, deps: AgentDeps) {
    this.#config = config
    this.#writeFile = deps.writeFile ?? writeFileAtomic
    this.#scheduler = deps.scheduler ?? systemScheduler
    this.#logger = deps.logger ?? createLogger({ level: config.logLevel })
    this.#metrics = deps.metrics ?? NO_METRICS
    this.#urlCa = deps.trustBundleUrlCa
    this.#backoff = new Backoff({
      initialMs: config.retryInitialIntervalMs,
      maxMs: config.retryMaxIntervalMs,
      ...(deps.random === undefined ? {} : { random: deps.random }),
    })
    this.#client = new ServerClient({
      serverAddress: config.serverAddress,
      serverPort: config.serverPort,
      serverId: expectedServerId(config.trustDomain),
      connectTimeoutMs: config.connectTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      now: () => this.#scheduler.now(),
    })
  }

  start(): AgentHandle {
    const done = this.#run().then((outcome) => {
      this.#waiters.end(outcome)
      return outcome
    })
    return {
      done,
      current: () => (this.#held === undefined ? undefined : svidInfo(this.#held)),
      nextSvid: (after) => this.#waiters.next(after, this.#held),
      stop: () => {
        this.#abort.abort()
        return done
      },
    }
  }

  async #run(): Promise<AgentOutcome> {
    const { nodeAttestor, dataDir, trustBootstrap } = this.#config
    this.#logger.info(
      {
        [F.server]: this.#client.origin,
        [F.attestor]: nodeAttestor.type,
        [F.cluster]: nodeAttestor.cluster,
        [F.tokenPath]: nodeAttestor.tokenPath,
        [F.dataDir]: dataDir,
        [F.trustBootstrap]: trustBootstrap.kind,
      },
      'agent starting',
    )
    let outcome: AgentOutcome
    try {
      await this.#restore()
      outcome = await this.#loop()
    } catch (error) {
      this.#logger.fatal({ err: error }, 'agent crashed: an unexpected error ended the loop')
      outcome = { reason: 'crashed', error }
    }
    try {
      await this.#client.close()
    } catch (error) {
      // The outcome stands; a connection that would not close is worth a line, not a crash.
      this.#logger.warn({ err: error }, 'closing the connections to the server failed')
    }
    return outcome
  }

  /** Picks up the bundle and SVID a previous run left in data_dir, if they are still good. */
  async #restore(): Promise<void> {
    const restored = await restoreFromDataDir(this.#config, () => this.#scheduler.now(), this.#logger)
    if (restored === undefined) return
    this.#useBundle(restored.bundle, 'data_dir')
    if (restored.svid !== undefined) this.#hold(restored.svid)
  }

  async #loop(): Promise<AgentOutcome> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      const held = this.#held
      // An SVID that could not be stored is retried at the backoff, not at its rotation time.
      if (held !== undefined && !this.#unstored) {
        const waitMs = rotationTime(held) - this.#scheduler.now()
        if (waitMs > 0) {
          await this.#scheduler.sleep(Math.min(waitMs, MAX_ROTATION_WAIT_MS), signal)
          continue
        }
      }
      const failed = await this.#attempt()
      if (signal.aborted) continue
      if (failed === undefined) {
        await this.#pauseIfAlreadyDue()
        continue
      }
      if (failed.failure.kind === 'banned' && failed.error instanceof ServerProblemError) {
        this.#logger.error(
          failureFields(failed.failure, failed.error, this.#failureContext()),
          `the server banned this agent; stopping (${failed.error.message}). ` +
            'An operator must lift the ban on the server before the agent can attest again',
        )
        await this.#dropSvid()
        return { reason: 'banned', error: failed.error }
      }
      await this.#scheduler.sleep(this.#waitAfter(failed), signal)
    }
    this.#logger.info('agent stopped')
    return { reason: 'stopped' }
  }

  /** One attempt to obtain an SVID. Returns the classified failure, or `undefined` on success. */
  async #attempt(): Promise<RetriedAttempt | undefined> {
    let method = renewalMethod(this.#config.nodeAttestor.type, this.#held, this.#scheduler.now())
    try {
      const held = this.#held
      if (this.#unstored && held !== undefined && rotationTime(held) > this.#scheduler.now()) {
        await this.#store(held)
        this.#logger.info(svidFields(held), 'SVID stored in data_dir after an earlier failure')
        return undefined
      }
      await this.#ensureTrust()
      let obtained = method === 'renew' ? await this.#renew() : undefined
      if (obtained === undefined) {
        method = 'attest'
        obtained = await this.#attest()
      }
      await this.#keep(obtained)
      return undefined
    } catch (error) {
      if (this.#abort.signal.aborted) return undefined
      const failure = classifyFailure(error)
      if (failure === undefined) throw error
      if (error instanceof AgentError && error.code === 'ATT_ERR_SERVER_UNTRUSTED') this.#distrust()
      return { failure, error, method }
    }
  }

  /**
   * The held trust did not vouch for the server. A bootstrap bundle is read again at the next
   * attempt: the operator may fix the file or what the URL publishes. A bundle from data_dir or
   * from the server is widened by `trust_bundle_path` at the next attempt (see
   * {@link #ensureTrust}): the server's CA may have rotated while this agent was away (a node
   * off, or the server down, past a CA takeover), and the file, which the k8sbundle notifier
   * keeps current, is what a new agent would trust; the held authorities stay, should the
   * failure have been one impostor connection. It is the operator's own file, so nothing on the
   * network can bring it in. A URL is not fetched again for this (an attacker who can intercept
   * the server port and answer for the URL's host could then take over running agents, not only
   * new ones), nor is insecure_bootstrap used again (that would let any server in): the log
   * says how to bootstrap again.
   */
  #distrust(): void {
    const source = this.#trustSource
    if (source === 'bootstrap') {
      this.#trustSet = false
      return
    }
    const held =
      source === 'data_dir' ? `the trust bundle in ${this.#config.dataDir}` : "the server's last trust bundle"
    const bootstrap = this.#config.trustBootstrap
    if (bootstrap.kind !== 'bundle_file') {
      if (this.#toldCannotRebootstrap) return
      this.#toldCannotRebootstrap = true
      const option = bootstrap.kind === 'insecure' ? 'insecure_bootstrap is' : 'trust_bundle_url is'
      this.#logger.warn(
        { [F.trustBootstrap]: bootstrap.kind, [F.dataDir]: this.#config.dataDir },
        `${held} does not vouch for the server (did its CA rotate while this agent was away?); ${option} not used again while a bundle is held: remove ${join(this.#config.dataDir, BUNDLE_FILE_NAME)} to bootstrap again`,
      )
      return
    }
    this.#logger.warn(
      { [F.trustBootstrap]: bootstrap.kind },
      `${held} does not vouch for the server (did its CA rotate while this agent was away?); the next attempt also trusts trust_bundle_path ${bootstrap.path}`,
    )
    this.#trustSet = false
  }

  /**
   * After a success: an SVID that is already past half its lifetime (the server's clock runs
   * behind ours, or its CA is about to expire) would send the loop straight back to the server,
   * again and again. Such a success counts as a failure for the backoff.
   */
  async #pauseIfAlreadyDue(): Promise<void> {
    const held = this.#held
    if (held === undefined || rotationTime(held) > this.#scheduler.now()) {
      this.#backoff.reset()
      return
    }
    const waitMs = this.#backoff.next()
    this.#logger.warn(
      { ...svidFields(held), [F.retryInMs]: waitMs },
      "the new SVID is already past half its lifetime (is the server's clock behind ours?); rotating again after a pause",
    )
    await this.#scheduler.sleep(waitMs, this.#abort.signal)
  }

  /**
   * Before the first attempt without a stored bundle, and after the trust in use did not vouch
   * for the server (see {@link #distrust}): the configured bootstrap, added to a bundle already
   * held. A held bundle stays in use when the bootstrap cannot be read: a broken ConfigMap does
   * not cost an agent the trust it had.
   */
  async #ensureTrust(): Promise<void> {
    if (this.#trustSet) return
    const held = this.#bundle
    let bundle: TrustBundle | undefined
    try {
      bundle = await bootstrapTrustBundle(this.#config.trustBootstrap, {
        connectTimeoutMs: this.#config.connectTimeoutMs,
        requestTimeoutMs: this.#config.requestTimeoutMs,
        signal: this.#abort.signal,
        ...(this.#urlCa === undefined ? {} : { urlCa: this.#urlCa }),
      })
    } catch (error) {
      if (held === undefined || !(error instanceof AgentError)) throw error
      this.#logger.warn(
        { [F.code]: error.code, [F.check]: error.details.check },
        `${error.message}; going on with the trust bundle held`,
      )
      this.#useBundle(held, this.#trustSource === 'data_dir' ? 'data_dir' : 'server')
      return
    }
    if (bundle !== undefined) {
      this.#useBundle(held === undefined ? bundle : widenTrustBundle(held, bundle), 'bootstrap')
      return
    }
    this.#logger.warn(
      { [F.trustBootstrap]: 'insecure' },
      'insecure_bootstrap: the server certificate chain is not verified for this first attestation ' +
        '(its SPIFFE ID still is); the bundle it returns will be trusted from now on',
    )
    this.#client.setTrust({ kind: 'insecure' })
    this.#trustSet = true
    this.#trustSource = 'bootstrap'
  }

  async #attest(): Promise<ObtainedSvid> {
    const { type, cluster, tokenPath } = this.#config.nodeAttestor
    // A k8s_sat attestation once sent is let finish (and its SVID stored) after stop().
    const request =
      type === 'k8s_sat'
        ? abortedAfterGrace(this.#abort.signal, SAT_ATTESTATION_STOP_GRACE_MS)
        : { signal: this.#abort.signal, dispose: () => {} }
    try {
      const token = await readTokenFile(tokenPath)
      const { privateKey, csrPem } = await generateKeyAndCsr()
      this.#abort.signal.throwIfAborted() // stopped meanwhile: nothing is sent
      const response = await this.#client.attest({ attestor: type, cluster, token, csrPem }, request.signal)
      const obtained = this.#verifyResponse(response, privateKey, 'attest')
      this.#metrics.recordAttestation('success')
      return obtained
    } catch (error) {
      // A request cut short by stop() is no failure of the attestation.
      if (!this.#abort.signal.aborted) this.#metrics.recordAttestation('failure', codeOf(error))
      throw error
    } finally {
      request.dispose()
    }
  }

  /** A renewal over mTLS, or `undefined` when the server wants the agent to attest instead. */
  async #renew(): Promise<ObtainedSvid | undefined> {
    try {
      const { privateKey, csrPem } = await generateKeyAndCsr()
      const response = await this.#client.renew(csrPem, this.#abort.signal)
      const obtained = this.#verifyResponse(response, privateKey, 'renew')
      this.#metrics.recordRenewal('success')
      return obtained
    } catch (error) {
      if (this.#abort.signal.aborted) throw error
      this.#metrics.recordRenewal('failure', codeOf(error))
      if (error instanceof ServerProblemError && REATTEST_ON_RENEWAL_CODES.has(error.code)) {
        this.#logger.info(
          { [F.code]: error.code, [F.httpStatus]: error.httpStatus, [F.spiffeId]: this.#held?.spiffeId },
          `the server did not renew the SVID (${error.message}); attesting again`,
        )
        return undefined
      }
      throw error
    }
  }

  #verifyResponse(response: SvidResponse, privateKey: KeyObject, method: RenewalMethod): ObtainedSvid {
    return acceptSvidAnswer(response, privateKey, method, {
      config: this.#config,
      origin: this.#client.origin,
      heldBundle: this.#bundle,
      heldSvid: this.#held,
      now: this.#scheduler.now(),
    })
  }

  /**
   * Uses the new SVID, then stores it (bundle first, so the SVID on disk always chains to the
   * bundle on disk). Held before it is stored: should data_dir refuse the write (a full disk),
   * the agent keeps its new identity while the attempt is retried, and a k8s_sat agent renews
   * with it instead of spending its single-use token again. The previous files stay whole
   * (atomic writes).
   */
  async #keep({ svid, bundle, method }: ObtainedSvid): Promise<void> {
    if (this.#bundle === undefined || !sameTrustBundle(this.#bundle, bundle)) {
      this.#useBundle(bundle, 'server')
    }
    const previous = this.#held
    this.#hold(svid, { notify: false })
    const aheadMs = svid.notBefore.getTime() - this.#scheduler.now()
    if (aheadMs > CLOCK_SKEW_TOLERANCE_MS) {
      // Only k8s_sat accepts such an SVID (see acceptSvidAnswer).
      this.#logger.warn(
        { ...svidFields(svid), [F.method]: method },
        `the SVID is not valid for another ${Math.ceil(aheadMs / 1000)} s by this agent's clock (the server's clock runs ahead?); kept, since the k8s_sat token that bought it is single-use, and renewed at its half-life`,
      )
    }
    this.#logger.info(
      { ...svidFields(svid), [F.method]: method },
      previous === undefined ? 'SVID obtained' : `SVID rotated (previous serial ${previous.serialNumber})`,
    )
    this.#unstored = true
    try {
      await this.#store(svid)
    } finally {
      // After the store attempt, so whoever waits for the SVID finds it in data_dir when it could be written.
      this.#waiters.notify(svid)
    }
  }

  /** Writes the held bundle (unless already stored) and `svid` to data_dir. */
  async #store(svid: HeldSvid): Promise<void> {
    const { dataDir } = this.#config
    await prepareDataDir(dataDir)
    if (!this.#bundleStored && this.#bundle !== undefined) {
      await storeBundle(dataDir, this.#bundle, this.#writeFile)
      this.#bundleStored = true
    }
    await storeSvid(dataDir, svid, this.#writeFile)
    this.#unstored = false
  }

  /**
   * Verifies the server with `bundle` from now on. Only a bundle read from data_dir is already
   * there: any other is written with the next SVID (a bootstrap bundle that replaced a stale
   * stored one included).
   */
  #useBundle(bundle: TrustBundle, source: TrustSource): void {
    this.#bundle = bundle
    this.#client.setTrust({ kind: 'bundle', bundle })
    this.#trustSet = true
    this.#trustSource = source
    this.#bundleStored = source === 'data_dir'
  }

  #hold(svid: HeldSvid, options: { readonly notify: boolean } = { notify: true }): void {
    this.#held = svid
    this.#client.setSvid(svid)
    this.#metrics.setSvid(svid)
    if (options.notify) this.#waiters.notify(svid)
  }

  /**
   * After a ban, as SPIRE's agent does: the SVID is removed from data_dir (and from memory), so
   * that a restarted agent attests (and hears of the ban) at once instead of serving the old
   * SVID until its half-life, and `healthcheck` fails.
   */
  async #dropSvid(): Promise<void> {
    const held = this.#held
    this.#held = undefined
    this.#client.setSvid(undefined)
    this.#metrics.setSvid(undefined)
    try {
      await removeStoredSvid(this.#config.dataDir)
      if (held !== undefined) this.#logger.info(svidFields(held), 'removed the SVID from data_dir')
    } catch (error) {
      // The ban stands whether or not the file could go; the next start hears of it at rotation.
      this.#logger.error({ err: error }, 'could not remove the SVID of the banned agent from data_dir')
    }
  }

  /** The wait before the next attempt, logged with why. */
  #waitAfter(failed: RetriedAttempt): number {
    const { failure } = failed
    const backoffMs = failure.kind === 'permanent' ? this.#backoff.nextAtCap() : this.#backoff.next()
    const waitMs =
      failure.retryAfterMs === undefined
        ? backoffMs
        : Math.max(backoffMs, Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS))
    logRetry(this.#logger, failed, {
      ...this.#failureContext(),
      retryInMs: waitMs,
      retryMaxIntervalMs: this.#config.retryMaxIntervalMs,
    })
    return waitMs
  }

  #failureContext(): FailureContext {
    return {
      attempt: this.#backoff.failures,
      ...(this.#held === undefined ? {} : { spiffeId: this.#held.spiffeId }),
    }
  }
}

/** A signal that aborts `graceMs` after `parent` does; `dispose` drops its timer and listener. */
function abortedAfterGrace(parent: AbortSignal, graceMs: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const startGrace = () => {
    timer = setTimeout(() => controller.abort(parent.reason), graceMs)
  }
  if (parent.aborted) startGrace()
  else parent.addEventListener('abort', startGrace, { once: true })
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer)
      parent.removeEventListener('abort', startGrace)
    },
  }
}

function codeOf(error: unknown): string {
  return classifyFailure(error)?.code ?? 'unexpected'
}

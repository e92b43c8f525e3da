import { request } from 'node:https'
import type { ContainerSpec, ProbeSpec } from './pod-spec.ts'

/** What a probe acts on: one running container of a pod. */
export interface ProbeTarget {
  readonly podIp: string
  readonly container: ContainerSpec
  exec(command: readonly string[]): Promise<{ readonly exitCode: number; readonly output: string }>
}

/** The outcome of one probe, as kubelet judges it. */
export interface ProbeResult {
  readonly success: boolean
  readonly detail: string
}

/**
 * Runs `probe` once, as kubelet does: `exec` succeeds on exit code 0; `httpGet` on a status from
 * 200 to 399 from the pod's IP, HTTPS without verifying the certificate (kubelet does not).
 * Either fails after `timeoutSeconds` (default 1).
 */
export async function probeOnce(probe: ProbeSpec, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000
  if (probe.exec !== undefined) {
    const command = probe.exec.command
    const result = await withTimeout(target.exec(command), timeoutMs, `exec ${command.join(' ')}`)
    return { success: result.exitCode === 0, detail: `exit ${result.exitCode}: ${result.output.trim()}` }
  }
  if (probe.httpGet !== undefined) {
    const { scheme = 'HTTP', path = '/', port } = probe.httpGet
    if (scheme !== 'HTTPS') throw new Error(`probe scheme ${scheme}: the runner probes HTTPS only`)
    const portNumber = typeof port === 'number' ? port : namedPort(target.container, port)
    const status = await httpsStatus(target.podIp, portNumber, path, timeoutMs)
    return { success: status >= 200 && status < 400, detail: `GET ${path}: ${status}` }
  }
  throw new Error('a probe without exec or httpGet')
}

/**
 * Polls `probe` until it succeeds, within the time kubelet gives it before acting:
 * `initialDelaySeconds + failureThreshold × periodSeconds` (defaults 0, 3 and 10). Polls more
 * often than `periodSeconds` (every second) so a passing probe is seen at once.
 */
export async function waitForProbe(
  probe: ProbeSpec,
  target: ProbeTarget,
  what: string,
): Promise<ProbeResult> {
  const budgetMs =
    ((probe.initialDelaySeconds ?? 0) + (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10)) * 1000
  const deadline = Date.now() + budgetMs
  let last: ProbeResult = { success: false, detail: 'not run' }
  for (;;) {
    try {
      last = await probeOnce(probe, target)
    } catch (error) {
      last = { success: false, detail: String(error) }
    }
    if (last.success || Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  if (!last.success) throw new Error(`${what} did not pass within ${budgetMs / 1000}s: ${last.detail}`)
  return last
}

function namedPort(container: ContainerSpec, name: string): number {
  const port = container.ports?.find((candidate) => candidate.name === name)
  if (port === undefined) throw new Error(`container ${container.name} names no port "${name}"`)
  return port.containerPort
}

function httpsStatus(host: string, port: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path, method: 'GET', rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

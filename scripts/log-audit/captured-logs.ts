import { appendFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The suite-wide log audit, test side: every log line the test harnesses capture (the server's
 * pino lines, child processes' output, the system tests' log files) and every secret the tests
 * mint (each token a Kubernetes test API signs, the admin credentials) are written under one
 * directory, named by this environment variable; at the end of the run the audit reporter
 * (`log-audit-reporter.ts`) scans every line for every secret. Unset (a script, `pnpm fuzz`):
 * nothing is written.
 */
export const LOG_AUDIT_DIR_ENV = 'K8S_ATTEST_LOG_AUDIT_DIR'

const FLUSH_EVERY = 500
const pendingLines = new Map<string, string[]>()
const pendingSecrets: string[] = []
let exitHookInstalled = false

function auditDir(): string | undefined {
  const dir = process.env[LOG_AUDIT_DIR_ENV]
  return dir === undefined || dir === '' ? undefined : dir
}

/** Keeps one log line (or several, newline-separated) of `source` (e.g. `server`, `agent`) for the audit. */
export function captureLogLine(source: string, line: string): void {
  if (auditDir() === undefined) return
  const lines = pendingLines.get(source) ?? []
  pendingLines.set(source, lines)
  lines.push(line.endsWith('\n') ? line.slice(0, -1) : line)
  installExitHook()
  if (lines.length >= FLUSH_EVERY) flushCapturedLogs()
}

/** Keeps a whole log file (a child process's) for the audit; call before the file is removed. */
export function captureLogFile(source: string, path: string): void {
  if (auditDir() === undefined) return
  captureLogLine(source, readFileSync(path, 'utf8'))
}

/** Records a secret the tests minted, which no captured log may contain. */
export function recordSecret(secret: string): void {
  if (auditDir() === undefined || secret.length === 0) return
  pendingSecrets.push(secret)
  installExitHook()
  if (pendingSecrets.length >= FLUSH_EVERY) flushCapturedLogs()
}

/** Writes what was captured so far to the audit directory. */
export function flushCapturedLogs(): void {
  const dir = auditDir()
  if (dir === undefined) return
  for (const [source, lines] of pendingLines) {
    if (lines.length === 0) continue
    mkdirSync(join(dir, 'logs'), { recursive: true })
    appendFileSync(
      join(dir, 'logs', `${source.replace(/[^\w-]/g, '_')}-${process.pid}.log`),
      `${lines.join('\n')}\n`,
    )
    lines.length = 0
  }
  if (pendingSecrets.length > 0) {
    mkdirSync(join(dir, 'secrets'), { recursive: true })
    // Base64 so that a secret with a newline stays one record.
    const records = pendingSecrets.map((secret) => Buffer.from(secret).toString('base64'))
    appendFileSync(join(dir, 'secrets', `${process.pid}.txt`), `${records.join('\n')}\n`)
    pendingSecrets.length = 0
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', flushCapturedLogs)
}

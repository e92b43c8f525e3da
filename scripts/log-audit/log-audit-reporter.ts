import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Reporter } from 'vitest/node'
import { auditCapturedLogs, type LogAudit } from './audit-logs.ts'
import { LOG_AUDIT_DIR_ENV } from './captured-logs.ts'

let lastAudit: LogAudit | undefined

/** How many log lines of the last run held a secret (the count reporter adds them to "failed"). */
export function logAuditFailures(): number {
  return lastAudit?.leaks.length ?? 0
}

/**
 * One check over every log the test run produced: before the workers start, an audit directory
 * is made and named in the environment (workers and the processes they spawn inherit it; the
 * harnesses write their log lines and minted secrets there, see `captured-logs.ts`); after the
 * last test, every line is scanned for every secret. A leak fails the run and is printed with
 * its line; the directory is kept then, removed otherwise.
 */
export default class LogAuditReporter implements Reporter {
  #dir: string | undefined

  onInit(): void {
    this.#dir = mkdtempSync(join(tmpdir(), 'k8s-attest-log-audit-'))
    process.env[LOG_AUDIT_DIR_ENV] = this.#dir
  }

  onTestRunEnd(): void {
    if (this.#dir === undefined) return
    const audit = auditCapturedLogs(this.#dir)
    lastAudit = audit
    const summary =
      `log audit: ${audit.logLines} captured log lines in ${audit.logFiles} files checked ` +
      `against ${audit.secrets} minted secrets and secret shapes: ${audit.leaks.length} leaks`
    if (audit.leaks.length === 0) {
      process.stdout.write(`\n${summary}\n`)
      rmSync(this.#dir, { recursive: true, force: true })
      return
    }
    process.stdout.write(
      `\n${summary} (kept in ${this.#dir}):\n${audit.leaks.map((leak) => `  ${leak}`).join('\n')}\n`,
    )
    process.exitCode = 1
  }
}

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/*
 * `pnpm run ci`'s test step: the vitest suite, then the Playwright suite (which needs `pnpm
 * build`'s dashboard assets), then one closing line counting both,
 * `tests: N passed, N failed, N skipped` — the line CI reads. Exits 1 when either suite failed.
 */

const root = join(import.meta.dirname, '..')
const artifacts = join(root, '.ci-artifacts')
const vitestCounts = join(artifacts, 'vitest-counts.json')
const playwrightResults = join(artifacts, 'playwright', 'results.json')

interface Counts {
  passed: number
  failed: number
  skipped: number
}

mkdirSync(artifacts, { recursive: true })
rmSync(vitestCounts, { force: true })
rmSync(playwrightResults, { force: true })

const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('pnpm', args, { cwd: root, stdio: 'inherit', env }).status ?? 1

const vitestStatus = run(['exec', 'vitest', 'run'], {
  ...process.env,
  K8S_ATTEST_TEST_COUNTS_FILE: vitestCounts,
})
const chromium = process.env.K8S_ATTEST_CHROMIUM ?? '/usr/bin/chromium'
let browserStatus = 1
if (existsSync(chromium)) {
  browserStatus = run(['--filter', '@k8s-attest/e2e', 'run', 'test:browser'], {
    ...process.env,
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  })
} else {
  process.stderr.write(
    `run-tests: the browser tests need chromium at ${chromium} (Debian: apt-get install chromium)\n`,
  )
}

const total: Counts = { passed: 0, failed: 0, skipped: 0 }
for (const counts of [readVitest(vitestStatus), readPlaywright(browserStatus)]) {
  total.passed += counts.passed
  total.failed += counts.failed
  total.skipped += counts.skipped
}
process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`)
process.exitCode = vitestStatus === 0 && browserStatus === 0 && total.failed === 0 ? 0 : 1

/** vitest's counts (written by scripts/vitest-count-reporter.ts); a run that wrote none is one failure. */
function readVitest(status: number): Counts {
  try {
    return JSON.parse(readFileSync(vitestCounts, 'utf8')) as Counts
  } catch {
    process.stderr.write(`run-tests: vitest exited ${status} without counting its tests\n`)
    return { passed: 0, failed: 1, skipped: 0 }
  }
}

/** Playwright's counts from its JSON report (`stats`); a run that wrote none is one failure. */
function readPlaywright(status: number): Counts {
  try {
    const { stats } = JSON.parse(readFileSync(playwrightResults, 'utf8')) as {
      stats: { expected: number; unexpected: number; flaky: number; skipped: number }
    }
    return { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped }
  } catch {
    process.stderr.write(`run-tests: Playwright exited ${status} without a report (${playwrightResults})\n`)
    return { passed: 0, failed: 1, skipped: 0 }
  }
}

import { defineConfig } from '@playwright/test'

/**
 * The dashboard in a real browser: Debian's chromium (never a downloaded one), one worker (the
 * tests share one running system and follow its story), screenshots and traces of failures kept
 * in .ci-artifacts/playwright for CI to archive.
 */
const ARTIFACTS = new URL('../../.ci-artifacts/playwright/', import.meta.url).pathname

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: `${ARTIFACTS}test-results`,
  workers: 1,
  fullyParallel: false,
  // Agents re-attest every 30 s: waiting for one is part of a test, not a hang.
  timeout: 120_000,
  expect: { timeout: 15_000 },
  forbidOnly: process.env.CI === 'true',
  reporter: [['list'], ['json', { outputFile: `${ARTIFACTS}results.json` }]],
  use: {
    browserName: 'chromium',
    // The server's certificate is issued by its own CA; the browser is told to accept it rather
    // than have a CA installed into a profile.
    ignoreHTTPSErrors: true,
    actionTimeout: 15_000,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: process.env.K8S_ATTEST_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
})

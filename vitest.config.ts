import { defineConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through this export
// condition, so tests never need a build first (the vitest monorepo's own trick).
const sourceCondition = '@k8s-attest/source'

export default defineConfig({
  resolve: { conditions: [sourceCondition, 'node'] },
  ssr: { resolve: { conditions: [sourceCondition, 'node'] } },
  test: {
    // The log audit before the count: its leaks count as failures (scripts/log-audit/).
    reporters: ['default', './scripts/log-audit/log-audit-reporter.ts', './scripts/vitest-count-reporter.ts'],
    setupFiles: ['./scripts/log-audit/worker-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{packages,apps}/*/{src,test}/**/*.test.ts', 'scripts/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            '{packages,apps}/*/{src,test}/**/*.integration.test.ts',
            'deploy/**/*.integration.test.ts',
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // The deployment checked without a cluster, and the container runner's own units.
          name: 'e2e-manifests',
          include: ['e2e/manifests/**/*.test.ts', 'e2e/containers/**/*.test.ts'],
          exclude: ['e2e/containers/**/*.e2e.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The kind overlay's pods run as containers (Docker): images built once, in globalSetup.
          name: 'e2e-containers',
          include: ['e2e/containers/**/*.e2e.test.ts'],
          globalSetup: ['e2e/containers/global-setup.ts'],
          // No Ryuk (it would be pulled); the host is this machine (no bridge network to ask).
          env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' },
          // Probes start Node in the containers; on 2 busy cores each start can take seconds.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})

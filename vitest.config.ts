import { defineConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through this export
// condition, so tests never need a build first (the vitest monorepo's own trick).
const sourceCondition = '@k8s-attest/source'

export default defineConfig({
  resolve: { conditions: [sourceCondition, 'node'] },
  ssr: { resolve: { conditions: [sourceCondition, 'node'] } },
  test: {
    reporters: ['default', './scripts/vitest-count-reporter.ts'],
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
          include: ['{packages,apps}/*/{src,test}/**/*.integration.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})

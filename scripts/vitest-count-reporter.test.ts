import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { startVitest, type TestModule } from 'vitest/node'
import { countTests } from './vitest-count-reporter.ts'

const FIXTURES = fileURLToPath(new URL('./fixtures/count-reporter/', import.meta.url))

/** Runs one fixture file in a vitest of its own and counts what it reports. */
async function countFixture(file: string) {
  let seen: { modules: ReadonlyArray<TestModule>; errors: ReadonlyArray<unknown> } | undefined
  const vitest = await startVitest(
    'test',
    [file],
    {
      root: FIXTURES,
      include: ['*.fixture.ts'],
      config: false,
      watch: false,
      reporters: [
        {
          onTestRunEnd: (modules, errors) => {
            seen = { modules, errors }
          },
        },
      ],
    },
    {},
  )
  await vitest.close()
  process.exitCode = 0 // the fixtures fail on purpose; this run's own status is vitest's business
  if (seen === undefined) throw new Error(`vitest reported no run for ${file}`)
  return countTests(seen.modules, seen.errors)
}

describe('countTests', () => {
  it('counts a test whose beforeAll failed as failed, and an it.skip beside it as skipped', async () => {
    expect(await countFixture('before-all-failed.fixture.ts')).toEqual({ passed: 0, failed: 1, skipped: 1 })
  })

  it('counts a module-level beforeAll failure as a failure of every test it kept from running', async () => {
    expect(await countFixture('module-hook-failed.fixture.ts')).toEqual({ passed: 0, failed: 1, skipped: 0 })
  })

  it('counts a file that failed on import as one failure', async () => {
    expect(await countFixture('import-failed.fixture.ts')).toEqual({ passed: 0, failed: 1, skipped: 0 })
  })

  it('counts passed, failed and to-do tests of a file that ran', async () => {
    expect(await countFixture('healthy.fixture.ts')).toEqual({ passed: 1, failed: 1, skipped: 1 })
  })
})

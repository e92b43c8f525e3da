import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node'

/** The figures of the closing line. */
export interface TestCounts {
  readonly passed: number
  readonly failed: number
  readonly skipped: number
}

/**
 * Counts a run's tests. A test that was meant to run but could not counts as **failed**, not
 * skipped: vitest marks the tests of a suite whose `beforeAll` threw (a missing PostgreSQL, say)
 * as skipped, so they are failed here when the suite or module around them holds an error. A
 * module that failed before declaring any test (an import error) counts as one failure, and so
 * does each unhandled error. Only tests skipped on purpose (`it.skip`, `skipIf`, `todo`) are
 * skipped.
 */
export function countTests(
  testModules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<unknown>,
): TestCounts {
  let passed = 0
  let failed = unhandledErrors.length
  let skipped = 0
  for (const testModule of testModules) {
    const tests = [...testModule.children.allTests()]
    if (testModule.state() === 'failed' && tests.length === 0) failed++
    for (const testCase of tests) {
      const state = testCase.result().state
      if (state === 'passed') passed++
      else if (state === 'failed' || couldNotRun(testCase)) failed++
      else skipped++
    }
  }
  return { passed, failed, skipped }
}

/** Meant to run (not skipped on purpose) but did not, because a hook or an import around it failed. */
function couldNotRun(testCase: TestCase): boolean {
  if (testCase.options.mode !== 'run') return false
  let parent: TestSuite | TestModule = testCase.parent
  for (;;) {
    if (parent.errors().length > 0) return true
    if (parent.type === 'module') return false
    parent = parent.parent
  }
}

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after
 * vitest's own summary. CI reads that line as the test count; vitest's
 * decorated summary is not read.
 */
export default class CountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const { passed, failed, skipped } = countTests(testModules, unhandledErrors)
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}

import type {Reporter, TestModule} from 'vitest/node'

/** Ends the run with the plain `N passed, N failed, N skipped` line that CI tooling reads (a failed file counts once). */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = {passed: 0, failed: unhandledErrors.length, skipped: 0}
    for (const module of testModules) {
      // A failing hook or import fails the file without failing a test: count it too.
      if (module.state() === 'failed' && ![...module.children.allTests()].some((test) => test.result().state === 'failed')) counts.failed++
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'failed') counts.failed++
        else counts.skipped++
      }
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`)
  }
}

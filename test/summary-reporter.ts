import type {Reporter, TestModule} from 'vitest/node'
import {describeServers, serverSetVersions} from '../src/lib/sandbox/index.js'

/**
 * Ends the run with the servers it ran against (the set CIMOPS_SERVERS chose and the versions they
 * report) and the plain `N passed, N failed, N skipped` line that CI tooling reads (a failed file counts once).
 */
export default class SummaryReporter implements Reporter {
  async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): Promise<void> {
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
    process.stdout.write(`\nservers: ${await serversLine()}\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`)
  }
}

async function serversLine(): Promise<string> {
  try {
    const {set, versions} = await serverSetVersions()
    return describeServers(set, versions)
  } catch (error) {
    return `unavailable: ${(error as Error).message}`
  }
}

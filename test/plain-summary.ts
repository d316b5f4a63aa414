import type { Reporter, TestModule } from 'vitest/node'

/** Ends the run with one plain line ("Tests: 74 passed, 0 failed, 0 skipped") that CI and scripts can read without colour codes. */
export default class PlainSummary implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 }
    for (const module of testModules) for (const test of module.children.allTests()) count[test.result().state]++
    console.log(`Tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped + count.pending} skipped`)
  }
}

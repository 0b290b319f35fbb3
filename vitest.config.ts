import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // @oclif/test needs console output to reach its capture; ink tests need CI unset (reference/oclif-node20.md).
    disableConsoleIntercept: true,
    env: {CI: 'false', NO_COLOR: '1'},
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
})

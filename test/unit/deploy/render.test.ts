import {describe, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import type {DeployLintResult} from '../../../src/lib/deploy/lint.js'
import {renderDeployLint} from '../../../src/lib/deploy/render.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const LONG = 'workflow-analytics-projection-eu-west-1'

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('deploy lint: check names whole, files and details wrapped', () => {
    const checks = ['prometheus-rules', 'prometheus-rule-tests', 'dashboard-metrics'].map((name, i) => ({name, tool: i === 2 ? 'cimops' : 'promtool', file: `prometheus/rules/${LONG}-alerts.yml`, status: i === 1 ? 'failed' : 'passed', detail: i === 1 ? 'alert HighEventProcessingLag for consumer workflow-analytics did not fire at 5m: expected 1 alert, got 0' : '12 rules, 4 groups', problems: []}))
    const result = {dir: '/srv/cim/deploy', servers: 'unstable', tools: {promtool: {path: '/usr/bin/promtool', version: '3.5.3'}, amtool: null}, ok: false, passed: 2, failed: 1, skipped: 0, checks} as unknown as DeployLintResult
    expectFits((w) => renderDeployLint(result, style, w), width, checks.map((c) => [c.name]))
  })
})

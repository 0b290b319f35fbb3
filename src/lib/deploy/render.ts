/** Text for people: one line per check, every problem of the failed ones, and the verdict. */
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {plural} from '../core/output/units.js'
import type {DeployCheck, DeployCheckStatus, DeployLintResult} from './lint.js'

const STATUS_STYLE: Record<DeployCheckStatus, 'OK' | 'CRITICAL' | 'UNKNOWN'> = {passed: 'OK', failed: 'CRITICAL', skipped: 'UNKNOWN'}

export function renderDeployLint(result: DeployLintResult, style: Style, width?: number): string {
  const table = renderTable(
    result.checks,
    [
      {header: 'STATUS', get: (c) => c.status, paint: (text, c) => style.status(STATUS_STYLE[c.status], text)},
      {header: 'CHECK', get: (c) => c.name, key: true},
      {header: 'TOOL', get: (c) => c.tool},
      {header: 'FILE', get: (c) => c.file, wrap: true, giveWay: 2},
      {header: 'DETAIL', get: (c) => c.detail, wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
  const failures = result.checks.filter((c) => c.status === 'failed' && c.problems.length > 0).flatMap((c) => problemLines(c, style))
  const verdict = `${plural(result.checks.length, 'check')} in ${result.dir}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`
  return [table, ...(failures.length > 0 ? ['', ...failures] : []), '', style.dim(toolsLine(result)), result.failed > 0 ? style.status('CRITICAL', verdict) : result.skipped > 0 ? style.status('WARNING', verdict) : style.status('OK', verdict)].join('\n')
}

/** Which versions linted: rules valid for one promtool may not parse with another. */
function toolsLine(result: DeployLintResult): string {
  const tools = Object.entries(result.tools).map(([tool, used]) => (used ? `${tool} ${used.version ?? '(version unknown)'} (${used.path})` : `${tool} not installed`))
  return `Linted with the ${result.servers} servers' tools: ${tools.join(', ')}`
}

function problemLines(check: DeployCheck, style: Style): string[] {
  return check.problems.map((problem) => `${check.file}: ${style.status('CRITICAL', 'error')}: ${problem} ${style.dim(`[${check.name}]`)}`)
}

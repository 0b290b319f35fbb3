/** Text for people: the runbook list, a runbook for the terminal, lint findings, run progress and summary. */
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatSeconds, plural} from '../core/output/units.js'
import type {RunRecord, StepRecord, StepStatus} from './execute.js'
import type {LintResult} from './lint.js'
import type {Runbook, RunbookStep} from './model.js'
import type {ResolvedParam} from './params.js'
import type {RecorderResult} from './record.js'
import type {RunbookDryRunResult} from './run.js'

/** Lists of names (alerts, tags) wrap in a block this wide on a terminal. */
const LIST_WIDTH = 40

export function renderRunbookList(runbooks: readonly Runbook[], style: Style, width?: number): string {
  return renderTable(
    [...runbooks],
    [
      {header: 'ID', get: (r) => r.id, key: true, paint: (t) => style.bold(t)},
      {header: 'TITLE', get: (r) => r.title, wrap: true, giveWay: 1},
      // Lists of names: a block, never one line of 100 characters.
      {header: 'ALERTS', get: (r) => r.alerts.join(', ') || '-', wrap: true, giveWay: 1, maxWidth: LIST_WIDTH},
      {header: 'STEPS', get: (r) => String(r.steps.length), align: 'right'},
      {header: 'TAGS', get: (r) => r.tags.join(', ') || '-', wrap: true, giveWay: 1, maxWidth: LIST_WIDTH},
    ],
    {width, paintHeader: style.dim},
  )
}

/** Attributes worth knowing before running a step, in words. */
export function stepFlags(step: RunbookStep): string[] {
  const a = step.attributes
  return [
    ...(a.confirm ? ['asks first'] : []),
    ...(a.timeoutMs === undefined ? [] : [`timeout ${formatSeconds(a.timeoutMs / 1000)}`]),
    ...(a.continueOnError ? ['failure ignored'] : []),
    ...(a.excludeFromRunAll ? ['not in --all'] : []),
    ...(a.cwd ? [`cwd ${a.cwd}`] : []),
    ...(a.interpreter ? [a.interpreter] : []),
  ]
}

/** The runbook as a terminal page: a header, its parameters, then the markdown with each step labelled. */
export function renderRunbook(runbook: Runbook, style: Style, width?: number): string {
  const out: string[] = []
  out.push(`${style.bold(runbook.title)}  ${style.dim(`(${runbook.id})`)}`)
  const facts = [
    runbook.alerts.length > 0 ? `alerts: ${runbook.alerts.join(', ')}` : '',
    runbook.tags.length > 0 ? `tags: ${runbook.tags.join(', ')}` : '',
    runbook.severity ? `severity: ${runbook.severity}` : '',
    runbook.owner ? `owner: ${runbook.owner}` : '',
  ].filter(Boolean)
  if (facts.length > 0) out.push(style.dim(facts.join(' · ')))
  out.push(style.dim(runbook.path))
  if (runbook.params.length > 0) {
    out.push('', style.bold('Parameters') + style.dim('  (--param NAME=VALUE, or CIMOPS_PARAM_NAME in the environment; steps read them as $NAME)'))
    out.push(
      renderTable(
        runbook.params,
        [
          {header: 'NAME', get: (p) => p.name, key: true},
          {header: 'REQUIRED', get: (p) => (p.required ? 'yes' : 'no')},
          {header: 'DEFAULT', get: (p) => (p.secret ? '(secret)' : (p.default ?? '-')), wrap: true, giveWay: 2},
          {header: 'PATTERN', get: (p) => p.pattern ?? '-', wrap: true, giveWay: 2},
          {header: 'DESCRIPTION', get: (p) => p.description ?? '-', wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  out.push('')
  const byLine = new Map(runbook.steps.map((step) => [step.line, step]))
  const lines = runbook.body.split(/\r?\n/)
  let fence: {marker: string; step?: RunbookStep} | undefined
  for (const [i, line] of lines.entries()) {
    const fileLine = runbook.bodyLine + i
    if (fence) {
      if (new RegExp(`^ {0,3}${fence.marker[0] === '`' ? '`' : '~'}{${fence.marker.length},}\\s*$`).test(line)) {
        fence = undefined
        continue
      }
      out.push(fence.step ? `    ${line}` : style.dim(`    ${line}`))
      continue
    }
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line)
    if (open) {
      const step = byLine.get(fileLine)
      fence = {marker: open[1], ...(step ? {step} : {})}
      if (step) {
        const flags = stepFlags(step)
        out.push(style.accent(`  ▸ step ${step.index}: ${step.name}`) + (flags.length > 0 ? style.dim(`  (${flags.join(', ')})`) : ''))
      }
      continue
    }
    const heading = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)
    if (heading) {
      out.push(heading[1].length <= 2 ? style.bold(heading[2].toUpperCase()) : style.bold(heading[2]))
      continue
    }
    out.push(line)
  }
  while (out.length > 0 && out.at(-1)!.trim() === '') out.pop()
  out.push('', style.dim(`Run it: cimops runbook run ${runbook.id} --all${runbook.params.some((p) => p.required) ? ' ' + runbook.params.filter((p) => p.required).map((p) => `--param ${p.name}=…`).join(' ') : ''}   (or --step NAME; --dry-run shows the plan)`))
  return out.join('\n')
}

export function renderLint(result: LintResult, style: Style): string {
  const lines = result.problems.map((p) => {
    const where = `${p.path}${p.line ? `:${p.line}` : ''}`
    const tag = p.severity === 'error' ? style.status('CRITICAL', 'error') : style.status('WARNING', 'warning')
    return `${where}: ${tag}: ${p.message} ${style.dim(`[${p.rule}]`)}`
  })
  const verdict = `${plural(result.runbooks, 'runbook')}, ${plural(result.steps, 'step')} (${plural(result.cimopsCommands, 'cimops command')} checked): ${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')}`
  lines.push(result.errors > 0 ? style.status('CRITICAL', verdict) : result.warnings > 0 ? style.status('WARNING', verdict) : style.status('OK', verdict))
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
// Run progress: the same words on a terminal (ink) and in a log (plain lines)

const STATUS_MARK: Record<StepStatus, string> = {
  succeeded: '✓',
  failed: '✗',
  ignored: '!',
  'timed-out': '✗',
  interrupted: '✗',
  declined: '–',
  'not-run': '·',
}

export function statusMark(status: StepStatus): string {
  return STATUS_MARK[status]
}

/** `▶ [2/5] check-consumer: what it does` and its first command lines. */
export function stepHeaderLines(step: RunbookStep, position: number, total: number): string[] {
  const flags = stepFlags(step)
  const head = `▶ [${position}/${total}] ${step.name}${step.description ? `: ${step.description}` : ''}`
  const script = step.script.split('\n').map((line) => `  $ ${line}`)
  return [head, ...(flags.length > 0 ? [`  (${flags.join(', ')})`] : []), ...script]
}

export function stepFinishLine(record: StepRecord, position: number, total: number): string {
  const took = formatSeconds(record.durationSeconds)
  const what: Record<StepStatus, string> = {
    succeeded: `exit 0 in ${took}`,
    failed: `exit ${record.exitCode} in ${took}`,
    ignored: `exit ${record.exitCode} in ${took} (continueOnError: the run goes on)`,
    'timed-out': `timed out after ${took}`,
    interrupted: `interrupted after ${took}`,
    declined: 'declined: not run',
    'not-run': 'not run',
  }
  return `${statusMark(record.status)} [${position}/${total}] ${record.name}: ${what[record.status]}`
}

export function paintStatusLine(style: Style, status: StepStatus, text: string): string {
  if (status === 'succeeded') return style.status('OK', text)
  if (status === 'ignored' || status === 'declined') return style.status('WARNING', text)
  if (status === 'not-run') return style.dim(text)
  return style.status('CRITICAL', text)
}

export function renderRunSummary(record: RunRecord, style: Style, width?: number): string {
  const verdict = {
    succeeded: style.status('OK', 'succeeded'),
    failed: style.status('CRITICAL', `failed at step ${record.failedStep} (exit ${record.exitCode})`),
    interrupted: style.status('CRITICAL', 'interrupted'),
    stopped: style.status('WARNING', `stopped by the operator${record.failedStep ? `; step ${record.failedStep} failed (exit ${record.exitCode})` : ''}`),
  }[record.status]
  const table = renderTable(
    record.steps,
    [
      {header: '#', get: (s) => String(s.index), align: 'right'},
      {header: 'STEP', get: (s) => s.name, key: true},
      {header: 'STATUS', get: (s) => s.status, paint: (t, s) => paintStatusLine(style, s.status, t)},
      {header: 'EXIT', get: (s) => (s.exitCode === null ? '-' : String(s.exitCode)), align: 'right'},
      {header: 'DURATION', get: (s) => (s.startedAt ? formatSeconds(s.durationSeconds) : '-'), align: 'right'},
      {header: 'LAST OUTPUT', get: (s) => s.outputTail.at(-1) ?? '', wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
  return `${style.bold(`Runbook ${record.runbook.id}`)} ${style.dim(`run ${record.runId}`)}: ${verdict} in ${formatSeconds(record.durationSeconds)}\n${table}`
}

/** A dry run: the steps with their shells and scripts, the parameters and the other variables every step gets. */
export function renderDryRun(plan: RunbookDryRunResult, params: readonly ResolvedParam[], envNames: readonly string[], style: Style): string {
  const lines = [style.bold(`Dry run of runbook ${plan.runbook.id} (${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}, ${plan.selection === 'walk' ? 'each asked for in turn' : plan.selection === 'all' ? '--all' : '--step'}): nothing runs.`)]
  if (params.length > 0) {
    lines.push(`Parameters (environment variables of every step): ${params.map((p) => `${p.name}=${plan.params[p.name] === '' ? '""' : plan.params[p.name]} ${style.dim(`(${p.source})`)}`).join(', ')}`)
  }
  lines.push(style.dim(`Also in the environment: CIMOPS_RUNBOOK, CIMOPS_RUNBOOK_STEP, CIMOPS_RUN_ID${envNames.length > 0 ? `, ${envNames.join(', ')}` : ''}; this cimops first on PATH.`))
  for (const step of plan.steps) {
    const attrs = [`${step.shell} -e`, `cwd ${step.cwd}`, ...(step.timeoutSeconds ? [`timeout ${step.timeoutSeconds}s`] : []), ...(step.confirm ? ['asks first'] : []), ...(step.continueOnError ? ['failure ignored'] : [])]
    lines.push('', `${style.bold(`${step.index}. ${step.name}`)}${step.description ? `: ${step.description}` : ''}`, style.dim(`   ${attrs.join(' · ')}`))
    for (const line of step.script.split('\n')) lines.push(`   | ${line}`)
  }
  return lines.join('\n')
}

/** Where the run was recorded, or why it was not. */
export function renderOpsLogLine(opsLog: RecorderResult, runId: string, style: Style): string {
  return style.dim(opsLog.recorded ? `Recorded in the ops log ${opsLog.stream}: cim.ops.runbook.${runId}.> (${opsLog.events} events)` : `Not recorded in the ops log: ${opsLog.reason ?? 'nothing to record'}`)
}

import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {parse as parseYaml} from 'yaml'
import {afterEach, describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {parseRunbook} from '../../../src/lib/runbooks/parse.js'
import {renderRunbook, renderRunSummary, stepFinishLine, stepHeaderLines} from '../../../src/lib/runbooks/render.js'
import {plainReporter} from '../../../src/lib/runbooks/reporter.js'
import {newRunId, runbookSubject, toOpsEvents} from '../../../src/lib/runbooks/record.js'
import {RunbookRunView} from '../../../src/lib/ui/runbook-run.js'

const style = createStyle({noColor: true})
const runbook = parseRunbook(
  '/rb/v.md',
  '---\nid: v\ntitle: View\nalerts: [A]\nparams:\n  - name: X\n    required: true\n    description: the x\n---\n# View\n\n## Diagnosis\n\nCheck it.\n\n```sh {"name": "check", "confirm": "true", "timeout": "1m"}\ncimops health-check\n```\n',
  {parseYaml},
).runbook!
const step = runbook.steps[0]
const record = {index: 1, name: 'check', status: 'failed' as const, exitCode: 2, startedAt: '2026-11-22T03:00:00.000Z', durationSeconds: 1.5, outputLines: 1, outputTail: ['CRITICAL nats down']}

describe('run progress', () => {
  it('the same words on a terminal and in a log', () => {
    expect(stepHeaderLines(step, 1, 3)).toEqual(['▶ [1/3] check: Check it.', '  (asks first, timeout 1m)', '  $ cimops health-check'])
    expect(stepFinishLine(record, 1, 3)).toBe('✗ [1/3] check: exit 2 in 1.5s')
    expect(stepFinishLine({...record, status: 'timed-out', exitCode: null}, 1, 3)).toBe('✗ [1/3] check: timed out after 1.5s')
  })

  it('plain lines prefix output with the step name', () => {
    const lines: string[] = []
    const reporter = plainReporter((line) => lines.push(line), style)
    reporter.handle({type: 'step-started', step, position: 1, total: 1, execution: {shell: 'bash', cwd: '/'}})
    reporter.handle({type: 'step-output', step, stream: 'stdout', line: 'hello'})
    reporter.handle({type: 'step-finished', step, position: 1, total: 1, record})
    expect(lines).toEqual(['▶ [1/1] check: Check it.', '  (asks first, timeout 1m)', '  $ cimops health-check', '[check] hello', '✗ [1/1] check: exit 2 in 1.5s'])
  })

  it('the summary table and the page of a runbook', () => {
    const summary = renderRunSummary(
      {runId: 'r1', runbook: {id: 'v', title: 'View', path: '/rb/v.md'}, selection: 'all', params: {}, actor: {user: 'u', host: 'h'}, startedAt: '', finishedAt: '', durationSeconds: 1.6, status: 'failed', exitCode: 2, failedStep: 'check', steps: [record]},
      style,
    )
    expect(summary).toBe('Runbook v run r1: failed at step check (exit 2) in 1.6s\n#  STEP   STATUS  EXIT  DURATION  LAST OUTPUT\n1  check  failed     2      1.5s  CRITICAL nats down')
    const page = renderRunbook(runbook, style)
    expect(page).toContain('View  (v)\nalerts: A\n/rb/v.md')
    expect(page).toContain('NAME  REQUIRED  DEFAULT  PATTERN  DESCRIPTION\nX     yes       -        -        the x')
    expect(page).toContain('DIAGNOSIS\n\nCheck it.\n\n  ▸ step 1: check  (asks first, timeout 1m)\n    cimops health-check')
    expect(page).toContain('Run it: cimops runbook run v --all --param X=…')
  })
})

describe('RunbookRunView', () => {
  let view: ReturnType<typeof render> | undefined
  afterEach(() => view?.cleanup())

  it('prints lines once above a live footer, and drops the footer when the step is done', () => {
    view = render(createElement(RunbookRunView, {lines: [{id: 0, text: '▶ [1/1] check', kind: 'header'}], footer: '⠋ [1/1] check  0.1s'}))
    expect(view.lastFrame()).toBe('▶ [1/1] check\n⠋ [1/1] check  0.1s')
    view.rerender(
      createElement(RunbookRunView, {
        lines: [
          {id: 0, text: '▶ [1/1] check', kind: 'header'},
          {id: 1, text: 'OK all good', kind: 'stdout'},
        ],
        footer: '⠙ [1/1] check  0.2s',
      }),
    )
    expect(view.lastFrame()).toContain('│ OK all good\n⠙ [1/1] check  0.2s')
    view.rerender(
      createElement(RunbookRunView, {
        lines: [
          {id: 0, text: '▶ [1/1] check', kind: 'header'},
          {id: 1, text: 'OK all good', kind: 'stdout'},
          {id: 2, text: '✓ [1/1] check: exit 0 in 0.2s', kind: 'ok'},
        ],
      }),
    )
    expect(view.lastFrame()).toContain('✓ [1/1] check: exit 0 in 0.2s')
    expect(view.lastFrame()).not.toContain('⠙')
  })
})

describe('ops events of a run', () => {
  it('one subject token per run id, CIM envelope around the run', () => {
    const id = newRunId(new Date('2026-11-22T08:30:15.123Z'))
    expect(id).toMatch(/^20261122T083015Z-[0-9a-f]{4}$/)
    expect(runbookSubject(id, 'step-finished')).toBe(`cim.ops.runbook.${id}.step-finished`)
    const run = {runId: id, runbook: {id: 'v', title: 'View', path: '/rb/v.md'}, selection: 'all' as const, params: {X: '1'}, actor: {user: 'u', host: 'h'}, startedAt: '2026-11-22T08:30:15.123Z'}
    const [started] = toOpsEvents({type: 'run-started', run, steps: [step]}, () => new Date('2026-11-22T08:30:15.200Z'))
    expect(started.subject).toBe(`cim.ops.runbook.${id}.started`)
    expect(started.body).toMatchObject({type: 'RunbookRunStarted', domain: 'ops', aggregateType: 'runbook-run', aggregateId: id, occurredAt: '2026-11-22T08:30:15.200Z', data: {params: {X: '1'}, steps: [{index: 1, name: 'check', confirm: true}]}})
  })
})

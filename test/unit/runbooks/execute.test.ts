import {parse as parseYaml} from 'yaml'
import {describe, expect, it} from 'vitest'

import {type ExecuteOptions, executeRunbook, type RunEvent, type StepExecution, type StepOutcome} from '../../../src/lib/runbooks/execute.js'
import {parseRunbook} from '../../../src/lib/runbooks/parse.js'
import {selectSteps} from '../../../src/lib/runbooks/plan.js'

const runbook = parseRunbook(
  '/rb/exec.md',
  `---
id: exec
title: Exec
params:
  - name: TOKEN
    secret: true
---
First.

\`\`\`sh {"name": "one"}
echo one
\`\`\`

Fails.

\`\`\`sh {"name": "two"}
exit 3
\`\`\`

Fails, ignored.

\`\`\`sh {"name": "soft", "continueOnError": "true"}
exit 1
\`\`\`

Changes things.

\`\`\`sh {"name": "danger", "confirm": "true"}
echo danger
\`\`\`

Only by name.

\`\`\`zsh {"name": "manual", "excludeFromRunAll": "true", "timeout": "2s", "cwd": "sub"}
echo manual
\`\`\`
`,
  {parseYaml},
).runbook!

/** A fake shell: each step's behaviour by name. */
function fakeRunner(behaviour: Record<string, Partial<StepOutcome> & {lines?: string[]}>, seen: StepExecution[] = []): ExecuteOptions['runner'] {
  return async (execution, io) => {
    seen.push(execution)
    const name = execution.env.CIMOPS_RUNBOOK_STEP
    const b = behaviour[name] ?? {}
    for (const line of b.lines ?? [`${name} output`]) io.onLine('stdout', line)
    return {exitCode: b.exitCode === undefined ? 0 : b.exitCode, timedOut: b.timedOut ?? false, canceled: b.canceled ?? false, durationMs: 5}
  }
}

const base = (over: Partial<ExecuteOptions>): ExecuteOptions => ({
  runbook,
  steps: runbook.steps,
  selection: 'steps',
  params: [],
  runId: 'run-1',
  env: {PATH: '/shim:/usr/bin'},
  cwd: '/work',
  keepGoing: false,
  yes: false,
  signal: new AbortController().signal,
  runner: fakeRunner({}),
  now: () => new Date('2026-11-22T03:00:00Z'),
  ...over,
})
const statuses = (record: {steps: Array<{name: string; status: string}>}) => Object.fromEntries(record.steps.map((s) => [s.name, s.status]))

describe('executeRunbook', () => {
  it('stops at the first failure; the exit code is that step\'s', async () => {
    const steps = selectSteps(runbook, {all: true}).steps
    const record = await executeRunbook(base({steps, selection: 'all', yes: true, runner: fakeRunner({two: {exitCode: 3}})}))
    expect(statuses(record)).toEqual({one: 'succeeded', two: 'failed', soft: 'not-run', danger: 'not-run'})
    expect(record).toMatchObject({status: 'failed', exitCode: 3, failedStep: 'two'})
  })

  it('--keep-going runs the rest, continueOnError never decides the exit code', async () => {
    const steps = selectSteps(runbook, {all: true}).steps
    const record = await executeRunbook(base({steps, selection: 'all', yes: true, keepGoing: true, runner: fakeRunner({two: {exitCode: 3}, soft: {exitCode: 1}, danger: {exitCode: 4}})}))
    expect(statuses(record)).toEqual({one: 'succeeded', two: 'failed', soft: 'ignored', danger: 'failed'})
    expect(record).toMatchObject({status: 'failed', exitCode: 3, failedStep: 'two'})
  })

  it('without a terminal and without --yes, a confirm step refuses the whole run before anything runs', async () => {
    const seen: StepExecution[] = []
    await expect(executeRunbook(base({runner: fakeRunner({}, seen)}))).rejects.toMatchObject({
      exit: 64,
      line: 'refusing to run runbook exec without confirmation: step danger asks for confirmation and there is no terminal to ask on (pass --yes to run them, or leave them out with --step)',
    })
    expect(seen).toEqual([])
  })

  it('on a terminal asks before confirm steps: no skips it, quit stops', async () => {
    const steps = [runbook.steps[0], runbook.steps[3], runbook.steps[0]]
    const asked: string[] = []
    let record = await executeRunbook(base({steps, ask: async (step, _p, _t, reason) => (asked.push(`${step.name}:${reason}`), 'no')}))
    expect(asked).toEqual(['danger:confirm'])
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'declined', 'succeeded'])
    expect(record.exitCode).toBe(0)
    record = await executeRunbook(base({steps, selection: 'walk', ask: async (step) => (step.name === 'danger' ? 'quit' : 'yes')}))
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'not-run', 'not-run'])
    expect(record).toMatchObject({status: 'stopped', exitCode: 0})
    await expect(executeRunbook(base({selection: 'walk'}))).rejects.toThrow(/which steps of runbook exec\?/)
  })

  it('a timeout is exit 75, an interrupt 130', async () => {
    let record = await executeRunbook(base({steps: [runbook.steps[0], runbook.steps[4]], runner: fakeRunner({manual: {exitCode: null, timedOut: true}})}))
    expect(statuses(record)).toEqual({one: 'succeeded', manual: 'timed-out'})
    expect(record).toMatchObject({status: 'failed', exitCode: 75})
    const abort = new AbortController()
    const runner: ExecuteOptions['runner'] = async () => {
      abort.abort()
      return {exitCode: null, timedOut: false, canceled: true, durationMs: 1}
    }
    record = await executeRunbook(base({steps: [runbook.steps[0], runbook.steps[0]], signal: abort.signal, runner}))
    expect(record.steps.map((s) => s.status)).toEqual(['interrupted', 'not-run'])
    expect(record).toMatchObject({status: 'interrupted', exitCode: 130})
  })

  it('runs each step in its shell with -e, the parameters and the run as environment variables', async () => {
    const seen: StepExecution[] = []
    await executeRunbook(base({steps: [runbook.steps[0], runbook.steps[4]], params: [{name: 'TOKEN', value: 'tok-9999', source: 'flag', secret: true}], runner: fakeRunner({}, seen)}))
    expect(seen[0]).toEqual({
      shell: 'bash',
      args: ['-e', '-c', 'echo one', 'exec/one'],
      cwd: '/work',
      env: {PATH: '/shim:/usr/bin', CIMOPS_RUNBOOK: 'exec', CIMOPS_RUNBOOK_STEP: 'one', CIMOPS_RUN_ID: 'run-1', TOKEN: 'tok-9999'},
    })
    expect(seen[1]).toMatchObject({shell: 'zsh', cwd: '/rb/sub', timeoutMs: 2000})
  })

  it('masks secrets in the output it reports and records, and keeps the tail', async () => {
    const events: RunEvent[] = []
    const lines = Array.from({length: 25}, (_, i) => `line ${i} tok-9999`)
    const record = await executeRunbook(
      base({steps: [runbook.steps[0]], params: [{name: 'TOKEN', value: 'tok-9999', source: 'flag', secret: true}], runner: fakeRunner({one: {lines}}), onEvent: (e) => events.push(e)}),
    )
    expect(record.params).toEqual({TOKEN: '***'})
    expect(record.steps[0].outputLines).toBe(25)
    expect(record.steps[0].outputTail).toHaveLength(20)
    expect(record.steps[0].outputTail[19]).toBe('line 24 ***')
    expect(JSON.stringify(events)).not.toContain('tok-9999')
    expect(events.map((e) => e.type)).toEqual(['run-started', 'step-started', ...Array(25).fill('step-output'), 'step-finished', 'run-finished'])
  })
})

describe('selectSteps', () => {
  it('--all leaves out excluded steps, --step runs named ones in the given order, nothing is a walk', () => {
    expect(selectSteps(runbook, {all: true}).steps.map((s) => s.name)).toEqual(['one', 'two', 'soft', 'danger'])
    expect(selectSteps(runbook, {steps: ['manual', 'exec/one', '2']}).steps.map((s) => s.name)).toEqual(['manual', 'one', 'two'])
    expect(selectSteps(runbook, {}).selection).toBe('walk')
    expect(() => selectSteps(runbook, {steps: ['nope']})).toThrow('runbook exec has no step "nope": its steps are one, two, soft, danger, manual')
    expect(() => selectSteps(runbook, {steps: ['one'], all: true})).toThrow(/--step and --all cannot be used together/)
  })
})

/**
 * `cimops runbook` through the built CLI against a seeded sandbox (the chosen server set):
 * a shipped runbook run end to end, test runbooks for --keep-going, a refused confirm step without a
 * terminal, secrets that never reach output or the ops log, lint, list, show, for-alert and the runbook
 * column of `alerts list`. Run `npm run build` first.
 */
import {mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {createAlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import {connectNats, jetstreamManagerFor} from '../../src/lib/adapters/nats/connection.js'
import {openOpsLog, type StoredOpsMessage} from '../../src/lib/adapters/nats/ops-events.js'
import type {AlertListResult} from '../../src/lib/alerts/model.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import type {RunbookRunResult} from '../../src/commands/runbook/run.js'
import {isolatedHome, runCli, type CliResult} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const SECRET = 's3cr3t-token-value'

const TEST_RUNBOOK = `---
id: ops-test
title: Runbook under test
alerts: [CimopsRunbookTest]
params:
  - name: MARK
    description: directory for marker files
    required: true
  - name: TOKEN
    description: an API token
    secret: true
---
# Runbook under test

## Meaning
For tests.

## Impact
None.

## Diagnosis

Says hello, prints the secret (masked), and runs a nested cimops against the same NATS.

\`\`\`sh {"name": "hello", "timeout": "30s"}
echo "hello from $CIMOPS_RUNBOOK/$CIMOPS_RUNBOOK_STEP with token=$TOKEN"
touch "$MARK/hello"
cimops stream list
\`\`\`

Fails on purpose.

\`\`\`sh {"name": "fail"}
echo "failing now" >&2
exit 3
\`\`\`

Runs only when the run keeps going.

\`\`\`sh {"name": "after"}
touch "$MARK/after"
\`\`\`

## Mitigation

Changes things: asks first, never in --all.

\`\`\`sh {"name": "danger", "confirm": "true", "excludeFromRunAll": "true"}
touch "$MARK/danger"
\`\`\`
`

const BROKEN_RUNBOOK = `---
id: broken
title: Broken
---
\`\`\`sh {"name": "oops", "confim": "true"}
rm -rf "$MARK"
\`\`\`
`

describe('cimops runbook against a seeded sandbox', () => {
  const sandbox = useSandbox({components: ['nats', 'alertmanager']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let dir: string
  let mark: string
  const connection = () => ['--nats-url', sandbox().state.natsServers.join(','), '--alertmanager-url', sandbox().state.alertmanagerUrl ?? '', '--timeout', '3s']
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, ...connection()], home.env)
  const test = (...args: string[]) => cli('runbook', 'run', 'ops-test', '--dir', dir, '-p', `MARK=${mark}`, ...args)
  const markers = async () => (await readdir(mark)).sort()

  async function opsMessages(filter = 'cim.ops.>'): Promise<StoredOpsMessage[]> {
    const settings = {servers: sandbox().state.natsServers}
    const nc = await connectNats(settings, {timeoutMs: 5000})
    try {
      const jsm = await jetstreamManagerFor(nc, settings, 5000)
      return await (await openOpsLog(nc, jsm, settings, 'CIM_OPS', 5000)).read(filter)
    } finally {
      await nc.close()
    }
  }

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    dir = await mkdtemp(join(tmpdir(), 'cimops-runbooks-'))
    await writeFile(join(dir, 'ops-test.md'), TEST_RUNBOOK)
    await writeFile(join(dir, 'broken.md'), BROKEN_RUNBOOK)
  })

  afterAll(async () => {
    await home?.cleanup()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  beforeEach(async () => {
    mark = join(dir, `mark-${Math.random().toString(36).slice(2)}`)
    await mkdir(mark)
  })

  it('runs a shipped runbook end to end: live prefixed output, the record as JSON and as ops events', async () => {
    const result = await cli('runbook', 'run', 'high-event-lag', '--all', '--param', 'CONSUMER=workflow-analytics', '--json')
    expect(result.code, result.stderr).toBe(0)
    const record = JSON.parse(result.stdout) as RunbookRunResult
    expect(record).toMatchObject({runbook: {id: 'high-event-lag'}, selection: 'all', status: 'succeeded', exitCode: 0, params: {STREAM: 'EVENTS', CONSUMER: 'workflow-analytics'}})
    const byName = Object.fromEntries(record.steps.map((s) => [s.name, s]))
    expect(Object.keys(byName)).toEqual(['health-consumers', 'consumer-report', 'consumer-detail', 'recent-events', 'monitor-lag'])
    expect(byName['consumer-detail']).toMatchObject({status: 'succeeded', exitCode: 0})
    expect(byName['consumer-detail'].outputTail.join('\n')).toMatch(/workflow-analytics/)
    expect(byName['recent-events']).toMatchObject({status: 'succeeded'})
    // No monitor in the sandbox: the step fails, continueOnError lets the run go on.
    expect(byName['monitor-lag']).toMatchObject({status: 'ignored', exitCode: 1})
    // Under --json the step output streams to stderr, prefixed with the step's name.
    expect(result.stderr).toMatch(/^\[consumer-report\] .*workflow-analytics/m)
    expect(result.stderr).toMatch(/^▶ \[3\/5\] consumer-detail: /m)

    expect(record.opsLog).toMatchObject({recorded: true, events: 7, stream: 'CIM_OPS'})
    const events = await opsMessages(`cim.ops.runbook.${record.runId}.>`)
    expect(events.map((e) => e.subject.split('.').at(-1))).toEqual(['started', ...Array(5).fill('step-finished'), 'finished'])
    expect(events.at(-1)!.data).toMatchObject({type: 'RunbookRunFinished', aggregateId: record.runId, data: {status: 'succeeded', exitCode: 0}})
  })

  it('stops at a failing step with its exit code; --keep-going runs the rest and still exits with it', async () => {
    let result = await test('--all')
    expect(result.code, result.stderr).toBe(3)
    expect(await markers()).toEqual(['hello'])
    expect(result.stdout).toMatch(/^\[hello\] hello from ops-test\/hello/m)
    // The nested cimops is this cimops, on the same NATS (--nats-url became NATS_URL).
    expect(result.stdout).toMatch(/^\[hello\] .*EVENTS/m)
    expect(result.stdout).toMatch(/^\[fail\] failing now$/m)
    expect(result.stdout).toContain('✗ [2/3] fail: exit 3 in')
    expect(result.stdout).toMatch(/failed at step fail \(exit 3\)/)
    expect(result.stdout).toMatch(/3\s+after\s+not-run/)

    result = await test('--all', '--keep-going', '--json')
    expect(result.code, result.stderr).toBe(3)
    expect(await markers()).toEqual(['after', 'hello'])
    const record = JSON.parse(result.stdout) as RunbookRunResult
    expect(record.steps.map((s) => `${s.name}:${s.status}:${s.exitCode}`)).toEqual(['hello:succeeded:0', 'fail:failed:3', 'after:succeeded:0'])
    expect(record).toMatchObject({status: 'failed', exitCode: 3, failedStep: 'fail'})
  })

  it('refuses a confirm step without a terminal before running anything; --yes runs it', async () => {
    let result = await test('--step', 'hello', '--step', 'danger')
    expect(result.code).toBe(64)
    expect(result.stderr).toBe(
      'cimops: refusing to run runbook ops-test without confirmation: step danger asks for confirmation and there is no terminal to ask on (pass --yes to run them, or leave them out with --step)\n',
    )
    expect(await markers()).toEqual([])

    result = await test('--step', 'hello', '--step', 'danger', '--yes')
    expect(result.code, result.stderr).toBe(0)
    expect(await markers()).toEqual(['danger', 'hello'])
    expect(result.stdout).toContain('▶ [2/2] danger: Changes things: asks first, never in --all.')
  })

  it('never shows or records a secret parameter: output, JSON, ops log and audit event', async () => {
    const result = await test('--step', 'hello', '--param', `TOKEN=${SECRET}`, '--json')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/^\[hello\] hello from ops-test\/hello with token=\*\*\*$/m)
    const record = JSON.parse(result.stdout) as RunbookRunResult
    expect(record.params).toEqual({MARK: mark, TOKEN: '***'})
    expect(result.stdout + result.stderr).not.toContain(SECRET)
    const everything = JSON.stringify(await opsMessages())
    expect(everything).toContain(record.runId)
    expect(everything).toContain('TOKEN=***')
    expect(everything).not.toContain(SECRET)
  })

  it('--dry-run prints the plan and runs nothing', async () => {
    const result = await test('--all', '--dry-run', '--param', `TOKEN=${SECRET}`)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('Dry run of runbook ops-test (3 steps, --all): nothing runs.')
    expect(result.stdout).toContain('TOKEN=*** (flag)')
    expect(result.stdout).toContain('   | exit 3')
    expect(result.stdout).not.toContain(SECRET)
    expect(await markers()).toEqual([])
  })

  it('bad input: unknown runbook 2 (not found, as an unknown stream or incident), unknown step 64, a malformed runbook 65 (it never runs)', async () => {
    const unknown = await cli('runbook', 'run', 'nope', '--dir', dir, '--all')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^cimops: no runbook "nope": the runbooks are .*ops-test/)
    expect((await cli('runbook', 'lint', 'nope', '--dir', dir)).code).toBe(2)
    expect((await test('--step', 'nope')).stderr).toContain('runbook ops-test has no step "nope": its steps are hello, fail, after, danger')
    const broken = await cli('runbook', 'run', 'broken', '--dir', dir, '--all', '-p', `MARK=${mark}`)
    expect(broken.code).toBe(65)
    expect(broken.stderr).toBe('cimops: runbook broken is malformed: line 5: unknown attribute "confim" (did you mean "confirm"?) (`cimops runbook lint broken` lists every problem)\n')
    const lint = await cli('runbook', 'lint', '--dir', dir, '--json')
    expect(lint.code).toBe(65)
    const found = JSON.parse(lint.stdout) as {errors: number; problems: unknown[]}
    expect(found.errors).toBe(1)
    expect(found.problems).toContainEqual(expect.objectContaining({severity: 'error', rule: 'attribute', runbook: 'broken', step: 'oops', line: 5}))
  })

  it('lint passes on every shipped runbook, against the commands of this build', async () => {
    const result = await cli('runbook', 'lint')
    expect(result.code, result.stdout).toBe(0)
    expect(result.stdout).toMatch(/^\d+ runbooks, \d+ steps \(\d+ cimops commands checked\): 0 errors, 0 warnings$/m)
  })

  it('list, show, for-alert, and the runbook id in alerts list', async () => {
    const list = JSON.parse((await cli('runbook', 'list', '--alert', 'highEventProcessingLag', '--json')).stdout) as {runbooks: Array<{id: string}>}
    expect(list.runbooks.map((r) => r.id)).toEqual(['high-event-lag'])
    const step = await cli('runbook', 'show', 'high-event-lag', '--step', 'consumer-report')
    expect(step.stdout).toBe('cimops consumer report "$STREAM" --sort lag\n')
    const page = await cli('runbook', 'for-alert', 'HighEventProcessingLag')
    expect(page.code).toBe(0)
    expect(page.stdout).toContain('High event processing lag  (high-event-lag)')
    expect(page.stdout).toContain('▸ step 2: consumer-report  (timeout 30s, failure ignored)')
    const none = await cli('runbook', 'for-alert', 'NoSuchAlert')
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^cimops: no runbook answers alert NoSuchAlert: runbooks answer /)
    // The same situation, the same exit code and error code: what was named does not exist.
    const [noAlert, noId] = await Promise.all([cli('runbook', 'for-alert', 'NoSuchAlert', '--json'), cli('runbook', 'show', 'no-such-runbook', '--json')])
    expect([noAlert.code, noId.code]).toEqual([2, 2])
    expect([JSON.parse(noAlert.stdout).error.code, JSON.parse(noId.stdout).error.code]).toEqual(['NOT_FOUND', 'NOT_FOUND'])

    const am = createAlertmanagerClient({url: sandbox().state.alertmanagerUrl!}, 5000)
    await am.postAlerts([{labels: {alertname: 'HighEventProcessingLag', severity: 'warning', domain: 'workflow', test_case: 'runbook'}, annotations: {summary: 'workflow-analytics behind'}}])
    const alerts = JSON.parse((await cli('alerts', 'list', 'test_case=runbook', '--json')).stdout) as AlertListResult
    expect(alerts.alerts.map((a) => a.runbook)).toEqual([{source: 'runbooks', name: 'high-event-lag', path: expect.stringMatching(/runbooks[/\\]high-event-lag\.md$/)}])
    const table = await cli('alerts', 'list', 'test_case=runbook')
    expect(table.stdout).toMatch(/HighEventProcessingLag .* high-event-lag$/m)
  })
})

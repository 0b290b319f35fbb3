/**
 * `cimops alerts list` and `alerts silence add|list|expire` through the built CLI against the real
 * Alertmanager of the sandbox (the set CIMOPS_SERVERS names), cross-checked with that set's amtool.
 * Run `npm run build` first.
 */
import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {once} from 'node:events'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createAlertmanagerClient, type AlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import {compareVersions, parseServerVersion} from '../../src/lib/core/version.js'
import {compileMatchers, parseMatcher} from '../../src/lib/alerts/matchers.js'
import {findServerBinary} from '../../src/lib/sandbox/index.js'
import type {AlertListResult, SilenceListResult} from '../../src/lib/alerts/model.js'
import {isolatedHome, okJson, runCli, type CliResult} from '../helpers/cli.js'
import {eventually} from '../helpers/health.js'
import {freePort} from '../helpers/monitor.js'
import {useSandbox} from '../helpers/sandbox.js'
import {amtoolJson} from '../helpers/server-tools.js'

// NATS too: silence add/expire write their audit events to the ops log.
const sandbox = useSandbox({components: ['nats', 'prometheus', 'alertmanager']})
const RUN = randomUUID()
const runMatcher = `test_run=${RUN}`
let home: Awaited<ReturnType<typeof isolatedHome>>
let am: AlertmanagerClient

const amUrl = () => sandbox().state.alertmanagerUrl ?? ''
const cli = (...args: string[]): Promise<CliResult> =>
  runCli([...args, '--timeout', '3s'], {
    ...home.env,
    CIMOPS_ALERTMANAGER_URL: amUrl(),
    CIMOPS_PROMETHEUS_URL: sandbox().state.prometheusUrl ?? '',
    NATS_URL: sandbox().state.natsServers.join(','),
  })
const json = okJson
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()
/** A loopback port nothing listens on (just released). */

interface AmtoolSilence {
  id: string
  status: {state: string}
  matchers: Array<{name: string; value: string; isRegex: boolean; isEqual: boolean}>
  createdBy: string
  comment: string
  startsAt: string
  endsAt: string
}
/** The silences as the amtool of the same package as the sandbox's Alertmanager shows them. */
const amtoolSilences = (expired = false) => amtoolJson<AmtoolSilence[]>(amUrl(), ['silence', 'query', ...(expired ? ['--expired'] : [])])

/** alertname -> [labels, startsAt minutes ago, annotations] */
const ALERTS: Array<[string, Record<string, string>, number, Record<string, string>?]> = [
  ['CimopsTestLag', {severity: 'critical', domain: 'graph'}, 30, {summary: 'graph-index is 95s behind', runbook_url: 'https://runbooks.example/lag'}],
  ['CimopsTestQueue', {severity: 'warning', domain: 'workflow'}, 10, {summary: 'queue at 85%'}],
  ['CimopsTestStalled', {severity: 'warning', domain: 'graph'}, 60],
  ['CimopsTestGpu', {severity: 'info', node: 'gpu-02'}, 5],
  ['CimopsTestPage', {severity: 'page', domain: 'graph'}, 90],
  ['CimopsTestNoSeverity', {domain: 'identity'}, 120],
  ['CimopsTestInhibitor', {severity: 'info', inhibit_role: 'source'}, 1],
  ['CimopsTestInhibited', {severity: 'warning', inhibit_role: 'target'}, 15],
  ['CimopsTestSilenced', {severity: 'critical'}, 20],
]
const DEFAULT_ORDER = ['CimopsTestLag', 'CimopsTestStalled', 'CimopsTestQueue', 'CimopsTestGpu', 'CimopsTestInhibitor', 'CimopsTestNoSeverity', 'CimopsTestPage']

beforeAll(async () => {
  home = await isolatedHome()
  am = createAlertmanagerClient({url: amUrl()}, 5000)
  // An inhibition rule, so --inhibited has something to show, and a route muted at all times for the
  // alerts labelled mute=always (only the mutedBy test posts one): the sandbox's config has neither.
  const proc = sandbox().state.processes.find((p) => p.component === 'alertmanager')!
  await writeFile(
    proc.configFile,
    [
      'global: {resolve_timeout: 5m}',
      'route:',
      "  receiver: 'null'",
      '  routes:',
      "    - {receiver: 'null', matchers: [mute=always], mute_time_intervals: [always], group_wait: 0s}",
      "receivers: [{name: 'null'}]",
      'time_intervals:',
      '  - {name: always, time_intervals: [{times: [{start_time: "00:00", end_time: "24:00"}]}]}',
      'inhibit_rules:',
      '  - source_matchers: [inhibit_role="source"]',
      '    target_matchers: [inhibit_role="target"]',
      '    equal: [test_run]',
    ].join('\n') + '\n',
  )
  expect((await fetch(`${amUrl()}/-/reload`, {method: 'POST'})).status).toBe(200)
  const endsAt = new Date(Date.now() + 3_600_000).toISOString()
  await am.postAlerts(
    ALERTS.map(([alertname, labels, minutes, annotations]) => ({labels: {alertname, test_run: RUN, ...labels}, annotations, startsAt: minutesAgo(minutes), endsAt})),
  )
  await am.createSilence({
    matchers: [{name: 'alertname', value: 'CimopsTestSilenced', isRegex: false, isEqual: true}, {name: 'test_run', value: RUN, isRegex: false, isEqual: true}],
    startsAt: new Date().toISOString(),
    endsAt,
    createdBy: 'cimops-tests',
    comment: 'pre-existing silence',
  })
  const all = await eventually(() => am.alerts({filter: [`test_run="${RUN}"`]}), (alerts) => alerts.length === ALERTS.length, 10_000, 200)
  expect(all).toHaveLength(ALERTS.length)
})

afterAll(async () => {
  await home?.cleanup()
})

describe('alerts list', () => {
  it('shows active alerts only by default, by severity then oldest first', async () => {
    const result = json<AlertListResult>(await cli('alerts', 'list', runMatcher, '--json'))
    expect(result.alerts.map((a) => a.alertname)).toEqual(DEFAULT_ORDER)
    expect(result.alerts.every((a) => a.state === 'active')).toBe(true)
    const lag = result.alerts[0]
    expect(lag).toMatchObject({
      severity: 'critical',
      labels: {alertname: 'CimopsTestLag', domain: 'graph', test_run: RUN},
      annotations: {summary: 'graph-index is 95s behind'},
      receivers: ['null'],
      runbook: {source: 'annotation', url: 'https://runbooks.example/lag'},
      silencedBy: [],
    })
    expect(lag.fingerprint).toMatch(/^[0-9a-f]+$/)
    expect(Number.isNaN(Date.parse(lag.startsAt))).toBe(false)
    expect(result.alerts.find((a) => a.alertname === 'CimopsTestNoSeverity')?.severity).toBeNull()
  })

  it('an empty answer because of a typo says so: the label or value no alert has, and what there is', async () => {
    const typo = json<AlertListResult>(await cli('alerts', 'list', 'domian=graph', runMatcher, '--json'))
    expect(typo.alerts).toEqual([])
    expect(typo.hints).toEqual([expect.stringMatching(/^no alert has a label domian \(labels present: alertname, .*domain.*\)$/)])
    const text = await cli('alerts', 'list', runMatcher, '--severity', 'crit')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/hint: no alert has severity crit \(severities present: .*critical.*\)/)
  })

  it('--silenced, --inhibited and --all add the suppressed alerts', async () => {
    const names = async (...flags: string[]) => json<AlertListResult>(await cli('alerts', 'list', runMatcher, '--json', ...flags)).alerts
    const silenced = await names('--silenced')
    expect(silenced.map((a) => a.alertname)).toContain('CimopsTestSilenced')
    expect(silenced.map((a) => a.alertname)).not.toContain('CimopsTestInhibited')
    expect(silenced.find((a) => a.alertname === 'CimopsTestSilenced')).toMatchObject({state: 'silenced', silencedBy: [expect.any(String)]})
    const inhibited = await names('--inhibited')
    expect(inhibited.map((a) => a.alertname)).toContain('CimopsTestInhibited')
    expect(inhibited.map((a) => a.alertname)).not.toContain('CimopsTestSilenced')
    expect(inhibited.find((a) => a.alertname === 'CimopsTestInhibited')?.state).toBe('inhibited')
    const all = await names('--all')
    // Sorted among the others: the silenced critical alert is second to the older critical one.
    expect(all.map((a) => a.alertname).slice(0, 2)).toEqual(['CimopsTestLag', 'CimopsTestSilenced'])
    expect(all).toHaveLength(ALERTS.length)
  })

  it('filters by matchers (bare first word = alertname, regexes anchored), severity and receiver', async () => {
    const names = async (...args: string[]) => json<AlertListResult>(await cli('alerts', 'list', ...args, '--json')).alerts.map((a) => a.alertname)
    expect(await names('CimopsTestQueue', runMatcher)).toEqual(['CimopsTestQueue'])
    expect(await names(runMatcher, 'domain=~"gr"')).toEqual([])
    expect(await names(runMatcher, 'domain=~"gr.*"', 'severity!=critical')).toEqual(['CimopsTestStalled', 'CimopsTestPage'])
    expect(await names('--severity', 'warning', runMatcher, '--severity', 'info')).toEqual(['CimopsTestStalled', 'CimopsTestQueue', 'CimopsTestGpu', 'CimopsTestInhibitor'])
    expect(await names(runMatcher, '--receiver', 'nul')).toEqual([])
    expect(await names(runMatcher, '--receiver', 'nu.*')).toHaveLength(DEFAULT_ORDER.length)
  })

  it('--group-by LABEL: groups in the order of their most urgent alert, one table per group', async () => {
    const result = json<AlertListResult>(await cli('alerts', 'list', runMatcher, '--group-by', 'domain', '--json'))
    const name = new Map(result.alerts.map((a) => [a.fingerprint, a.alertname]))
    expect(result.groupBy).toBe('domain')
    expect(result.groups?.map((g) => [g.value, g.count, g.fingerprints.map((fp) => name.get(fp))])).toEqual([
      ['graph', 3, ['CimopsTestLag', 'CimopsTestStalled', 'CimopsTestPage']],
      ['workflow', 1, ['CimopsTestQueue']],
      [null, 2, ['CimopsTestGpu', 'CimopsTestInhibitor']],
      ['identity', 1, ['CimopsTestNoSeverity']],
    ])

    const text = await cli('alerts', 'list', runMatcher, '--group-by', 'severity')
    expect(text.code).toBe(0)
    const headers = text.stdout.split('\n').filter((line) => line.startsWith('severity='))
    expect(headers).toEqual(['severity=critical · 1 alert', 'severity=warning · 2 alerts', 'severity=info · 2 alerts', 'severity=(none) · 1 alert', 'severity=page · 1 alert'])
    expect(text.stdout).toMatch(/^SEVERITY +ALERTNAME +LABELS +STARTED +SUMMARY +STATE +RUNBOOK$/m)
    expect(text.stdout).toMatch(/CimopsTestLag +domain=graph test_run=\S+ +30m ago +graph-index is 95s behind +active +https:\/\/runbooks\.example\/lag/)
    expect(text.stdout).toMatch(/7 alerts: 1 critical, 2 warning, 2 info, 1 no severity, 1 page matching test_run="/)
  })

  it('client-side matching agrees with Alertmanager for every matcher shape', async () => {
    const mine = await am.alerts({filter: [`test_run="${RUN}"`]})
    // An empty list would make every comparison below pass vacuously.
    expect(mine).toHaveLength(ALERTS.length)
    const cases = [
      'domain=graph',
      'domain!=graph',
      'domain=""',
      'domain=~".+"',
      'domain=~"gr"',
      'domain=~"gr.*|work.*"',
      'domain!~"graph|workflow"',
      'alertname=~"(?i)cimopstest(lag|queue)"',
      'alertname=~"CimopsTest\\w{3}"',
      'alertname=~"\\QCimopsTestGpu\\E"',
      'alertname=~"{x}|CimopsTestGpu"',
      'alertname=~"CimopsTest[[:upper:]][[:lower:]]+"',
      'node=~"gpu-0[1-3]"',
      'node=~"[[:alpha:]]+\\-\\d+"',
      'summary=~"queue at \\d+%"',
      'severity=~"crit.*|info"',
    ]
    let nonEmpty = 0
    for (const text of cases) {
      const server = (await am.alerts({filter: [`test_run="${RUN}"`, text]})).map((a) => a.fingerprint).sort()
      const matches = compileMatchers([parseMatcher(text)])
      const client = mine.filter((a) => matches(a.labels)).map((a) => a.fingerprint).sort()
      expect(client, text).toEqual(server)
      if (server.length > 0 && server.length < mine.length) nonEmpty++
    }
    // Most shapes select a proper subset: the agreement is on real selections, not on all-or-nothing.
    expect(nonEmpty).toBeGreaterThanOrEqual(cases.length / 2)
  })

  it('an alert muted by a time interval: mutedBy in --json and STATE from 0.28 (as the server reports its version), [] before', async () => {
    const mutedRun = `${RUN}-muted`
    await am.postAlerts([{labels: {alertname: 'CimopsTestMuted', severity: 'warning', test_run: mutedRun, mute: 'always'}, startsAt: minutesAgo(3), endsAt: new Date(Date.now() + 3_600_000).toISOString()}])
    const {version} = (await am.status()).versionInfo
    const reportsMutes = compareVersions(parseServerVersion(version) ?? [0, 0, 0], [0, 28, 0]) >= 0
    // The route's pipeline marks the group muted once it ran (group_wait 0s): wait for the server, then ask the CLI.
    const groups = await eventually(
      () => am.alertGroups({filter: [`test_run="${mutedRun}"`]}),
      (found) => found.flatMap((group) => group.alerts).length === 1 && (!reportsMutes || found.some((group) => group.alerts[0].status.mutedBy.length > 0)),
      10_000,
      200,
    )
    expect(groups.flatMap((group) => group.alerts)).toHaveLength(1)
    const [alert] = json<AlertListResult>(await cli('alerts', 'list', `test_run=${mutedRun}`, '--json')).alerts
    // Still active: it fires; only its notifications wait, so the default list shows it.
    expect(alert).toMatchObject({alertname: 'CimopsTestMuted', state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: reportsMutes ? ['always'] : []})
    const table = await cli('alerts', 'list', `test_run=${mutedRun}`)
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(reportsMutes ? /CimopsTestMuted .* muted by always +-$/m : /CimopsTestMuted .* active +-$/m)
  })

  it('alertGroups() returns the routing groups with their receiver', async () => {
    const groups = await am.alertGroups({filter: [`test_run="${RUN}"`]})
    expect(groups.length).toBeGreaterThanOrEqual(1)
    expect(groups.every((group) => group.receiver.name === 'null')).toBe(true)
    expect(groups.flatMap((group) => group.alerts).map((a) => a.labels.alertname).sort()).toEqual(ALERTS.map(([name]) => name).sort())
  })
})

describe('alerts silence', () => {
  it('add --dry-run shows the alerts it would silence and creates nothing', async () => {
    const before = (await amtoolSilences()).length
    const result = await cli('alerts', 'silence', 'add', 'alertname=~"CimopsTest(Queue|Stalled)"', runMatcher, '--comment', 'dry', '--dry-run')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/would match 2 current alerts of \d+\. Nothing created\./)
    expect(result.stdout).toMatch(/warning +CimopsTestStalled/)
    expect(result.stdout).toMatch(/warning +CimopsTestQueue/)
    expect((await amtoolSilences()).length).toBe(before)
  })

  it('a silence matching every current alert needs --yes (no terminal here: refused, exit 64)', async () => {
    const before = (await amtoolSilences()).length
    const refused = await cli('alerts', 'silence', 'add', 'alertname=~".+"', '--comment', 'everything')
    expect(refused.code).toBe(64)
    expect(refused.stderr).toMatch(/refusing without confirmation: alertname=~"\.\+" matches every current alert .*pass --yes to proceed/)
    const preview = json<{matchesEveryAlert: boolean; dryRun: boolean}>(await cli('alerts', 'silence', 'add', 'alertname=~".+"', '--comment', 'everything', '--dry-run', '--json'))
    expect(preview).toMatchObject({matchesEveryAlert: true, dryRun: true})
    expect((await amtoolSilences()).length).toBe(before)
  })

  it('--actor names who silenced; --author, its old name, still works and is hidden from help', async () => {
    const plan = (...flags: string[]) => cli('alerts', 'silence', 'add', 'CimopsTestQueue', runMatcher, '--comment', 'c', '--dry-run', '--json', ...flags)
    expect(json<{createdBy: string}>(await plan('--actor', 'alice'))).toMatchObject({createdBy: 'alice'})
    expect(json<{createdBy: string}>(await plan('--author', 'bob'))).toMatchObject({createdBy: 'bob'})
    expect(json<{createdBy: string}>(await plan('-a', 'carol'))).toMatchObject({createdBy: 'carol'})
    const help = await cli('alerts', 'silence', 'add', '--help')
    expect(help.stdout).toContain('--actor')
    expect(help.stdout).not.toContain('--author')
  })

  it('add, list and expire; amtool sees the same', async () => {
    const added = json<{id: string; endsAt: string; createdBy: string; matchedAlerts: unknown[]}>(
      await cli('alerts', 'silence', 'add', 'CimopsTestQueue', runMatcher, '--comment', 'queue drain, INC-7', '--duration', '30m', '--author', 'cimops-test', '--json'),
    )
    expect(added.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(added.matchedAlerts).toHaveLength(1)
    const seen = (await amtoolSilences()).find((s) => s.id === added.id)
    expect(seen).toMatchObject({
      status: {state: 'active'},
      createdBy: 'cimops-test',
      comment: 'queue drain, INC-7',
      matchers: expect.arrayContaining([
        {name: 'alertname', value: 'CimopsTestQueue', isRegex: false, isEqual: true},
        {name: 'test_run', value: RUN, isRegex: false, isEqual: true},
      ]),
    })
    expect(Math.abs(Date.parse(seen!.endsAt) - Date.parse(seen!.startsAt) - 30 * 60_000)).toBeLessThan(5000)

    const listed = json<SilenceListResult>(await cli('alerts', 'silence', 'list', '--json'))
    const mine = listed.silences.find((s) => s.id === added.id)
    expect(mine).toMatchObject({state: 'active', matchingAlerts: 1, createdBy: 'cimops-test'})
    expect(mine!.remainingSeconds).toBeGreaterThan(1790)
    expect(mine!.remainingSeconds).toBeLessThanOrEqual(1800)
    // The count agrees with what the server silences.
    const pre = listed.silences.find((s) => s.comment === 'pre-existing silence')
    const serverSilenced = (await am.alerts({filter: [`test_run="${RUN}"`]})).filter((a) => a.status.silencedBy.includes(pre!.id))
    expect(pre!.matchingAlerts).toBe(serverSilenced.length)
    expect(listed.silences.map((s) => s.id)).toEqual(expect.arrayContaining((await amtoolSilences()).map((s) => s.id)))

    const table = await cli('alerts', 'silence', 'list')
    expect(table.stdout).toMatch(new RegExp(`${added.id} +alertname="CimopsTestQueue" test_run="${RUN}" +(29m\\d+s|30m) left +1 +cimops-test +queue drain, INC-7`))

    const active = json<AlertListResult>(await cli('alerts', 'list', runMatcher, '--json')).alerts.map((a) => a.alertname)
    expect(active).not.toContain('CimopsTestQueue')

    const expired = await cli('alerts', 'silence', 'expire', added.id)
    expect(expired).toMatchObject({code: 0, stdout: `Expired silence ${added.id}.\n`})
    expect((await amtoolSilences()).map((s) => s.id)).not.toContain(added.id)
    expect((await amtoolSilences(true)).find((s) => s.id === added.id)?.status.state).toBe('expired')
    const listedExpired = json<SilenceListResult>(await cli('alerts', 'silence', 'list', '--expired', '--json'))
    expect(listedExpired.silences.find((s) => s.id === added.id)).toMatchObject({state: 'expired', remainingSeconds: 0})

    const again = await cli('alerts', 'silence', 'expire', added.id)
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(new RegExp(`^cimops: silence ${added.id} is already expired \\(ended `))
  })

  it('list --state, --created-by and --comment filter on every version; --json keeps its shape', async () => {
    const tag = `filters-${RUN}`
    const hour = 3_600_000
    const now = Date.now()
    const at = (ms: number) => new Date(ms).toISOString()
    const make = (createdBy: string, comment: string, startsAt: number) =>
      am.createSilence({
        matchers: [{name: 'alertname', value: 'CimopsTestFilters', isRegex: false, isEqual: true}, {name: 'test_run', value: RUN, isRegex: false, isEqual: true}],
        startsAt: at(startsAt),
        endsAt: at(startsAt + hour),
        createdBy,
        comment: `${tag} ${comment}`,
      })
    const active = await make('alice', 'GPU maintenance', now)
    const pending = await make('bob', 'deploy window', now + hour)
    const expired = await make('alice', 'old drain', now)
    await am.expireSilence(expired)
    const list = async (...flags: string[]) => json<SilenceListResult>(await cli('alerts', 'silence', 'list', '--comment', tag.toUpperCase(), '--json', ...flags))
    const ids = async (...flags: string[]) => (await list(...flags)).silences.map((s) => s.id)

    expect(await ids()).toEqual([active, pending])
    expect(await ids('--state', 'expired')).toEqual([expired])
    expect(await ids('--expired')).toEqual([expired])
    expect(await ids('--state', 'active,expired')).toEqual([active, expired])
    expect(await ids('--state', 'pending', '--state', 'active')).toEqual([active, pending])
    expect(await ids('--state', 'active,pending,expired', '--created-by', 'alice')).toEqual([active, expired])
    expect(await ids('--created-by', 'ali')).toEqual([])
    const everything = await list('--state', 'active,pending,expired')
    expect(Object.keys(everything).sort()).toEqual(['alerts', 'silences'])
    for (const silence of everything.silences) {
      expect(Object.keys(silence).sort()).toEqual(['annotations', 'comment', 'createdBy', 'endsAt', 'id', 'matchers', 'matchingAlerts', 'remainingSeconds', 'startsAt', 'state', 'updatedAt'])
      expect(silence.annotations).toEqual({})
    }
    expect(everything.silences.map((s) => s.state)).toEqual(['active', 'pending', 'expired'])

    const none = await cli('alerts', 'silence', 'list', '--comment', tag, '--created-by', 'nobody')
    expect(none).toMatchObject({code: 0, stdout: `No active or pending silences by nobody with a comment containing "${tag}".\n`})
    const bad = await cli('alerts', 'silence', 'list', '--state', 'gone')
    expect(bad.code).toBe(64)
    expect(bad.stderr).toMatch(/--state=gone to be one of: active, pending, expired/)
  })

  it('add --annotation: stored from 0.32 (as the server reports its version), a one-line refusal (64) before', async () => {
    const {version} = (await am.status()).versionInfo
    const supported = compareVersions(parseServerVersion(version) ?? [0, 0, 0], [0, 32, 0]) >= 0
    const comment = `annotated ${RUN}`
    const result = await cli('alerts', 'silence', 'add', 'CimopsTestAnnotated', runMatcher, '--comment', comment, '--duration', '5m', '--annotation', 'ticket=INC-42', '--annotation', 'url=https://t.example/x?a=b', '--json')
    if (supported) {
      const {id, annotations} = json<{id: string; annotations: Record<string, string>}>(result)
      expect(annotations).toEqual({ticket: 'INC-42', url: 'https://t.example/x?a=b'})
      const stored = (await (await fetch(`${amUrl()}/api/v2/silence/${id}`)).json()) as {annotations?: Record<string, string>}
      expect(stored.annotations).toEqual({ticket: 'INC-42', url: 'https://t.example/x?a=b'})
      const listed = json<SilenceListResult>(await cli('alerts', 'silence', 'list', '--comment', comment, '--json'))
      expect(listed.silences.map((s) => [s.id, s.annotations])).toEqual([[id, {ticket: 'INC-42', url: 'https://t.example/x?a=b'}]])
      const table = await cli('alerts', 'silence', 'list', '--comment', comment)
      expect(table.stdout).toMatch(/ +COMMENT +ANNOTATIONS$/m)
      expect(table.stdout).toMatch(new RegExp(`^${id} .* ${comment} +ticket=INC-42 url=https://t\\.example/x\\?a=b$`, 'm'))
      await am.expireSilence(id)
    } else {
      expect(result.code).toBe(64)
      expect(JSON.parse(result.stdout).error).toMatchObject({code: 'USAGE', exit: 64, message: `--annotation needs Alertmanager 0.32.0 or newer: the one at ${amUrl()} is ${version}`})
      const plain = await cli('alerts', 'silence', 'add', 'CimopsTestAnnotated', runMatcher, '--comment', comment, '--annotation', 'ticket=INC-42')
      expect(plain).toMatchObject({code: 64, stdout: ''})
      expect(plain.stderr).toBe(`cimops: --annotation needs Alertmanager 0.32.0 or newer: the one at ${amUrl()} is ${version} (put the note in --comment instead)\n`)
      expect((await am.silences()).filter((s) => s.comment === comment)).toEqual([])
    }
  })

  it('an unknown silence id: "no such silence", exit 2 (also with --json)', async () => {
    const unknown = randomUUID()
    const result = await cli('alerts', 'silence', 'expire', unknown)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(new RegExp(`^cimops: no such silence ${unknown}: Alertmanager at ${amUrl()} does not know it`))
    const asJson = await cli('alerts', 'silence', 'expire', 'not-a-uuid', '--json')
    expect(asJson.code).toBe(2)
    expect(JSON.parse(asJson.stdout).error).toMatchObject({code: 'FAILED', exit: 2, message: expect.stringMatching(/^no such silence not-a-uuid/)})
  })

  it('usage errors: no comment, zero duration, matchers that match everything empty', async () => {
    const noComment = await cli('alerts', 'silence', 'add', 'CimopsTestQueue')
    expect(noComment.code).toBe(64)
    expect(noComment.stderr).toMatch(/a comment is required/)
    const zero = await cli('alerts', 'silence', 'add', 'CimopsTestQueue', '--comment', 'x', '--duration', '0')
    expect(zero.code).toBe(64)
    const bad = await cli('alerts', 'silence', 'add', 'CimopsTestQueue', '--comment', 'x', '--duration', 'soon')
    expect(bad.code).toBe(64)
    expect(bad.stderr).toMatch(/invalid --duration "soon"/)
    const empty = await cli('alerts', 'silence', 'add', 'domain=~".*"', '--comment', 'x')
    expect(empty.code).toBe(64)
    expect(empty.stderr).toMatch(/must not match the empty string/)
  })
})

/** A second Alertmanager of the set under test on loopback, for one test: the sandbox's stays as the other tests need it. */
async function ownAlertmanager(name: string, flags: string[], silencesSnapshot?: Buffer) {
  const dir = join(home.dir, name)
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'alertmanager.yml'), "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
  if (silencesSnapshot) await writeFile(join(dir, 'silences'), silencesSnapshot)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const args = [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', ...flags]
  const child = spawn(findServerBinary('alertmanager'), args, {stdio: 'ignore'})
  const exited = once(child, 'exit')
  const stop = async () => {
    child.kill()
    await exited
  }
  const client = createAlertmanagerClient({url}, 1000)
  try {
    await eventually(() => client.status().catch(() => undefined), (status) => status !== undefined, 10_000, 100)
  } catch (error) {
    await stop()
    throw error
  }
  return {url, client, stop}
}

/**
 * A silences snapshot (`<storage>/silences`, length-delimited MeshSilence protobufs) holding one silence
 * with two OR-ed matcher sets, alertname=`names[i]` each: API v2 and amtool 0.33 cannot create one, a
 * newer peer could. Field numbers from the descriptor in the 0.33.1 binary (silencepb).
 */
function orSilenceSnapshot(id: string, names: [string, string]): Buffer {
  const varint = (n: number) => {
    const bytes: number[] = []
    for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n % 0x80) | 0x80)
    return Buffer.from([...bytes, n])
  }
  const field = (num: number, payload: Buffer) => Buffer.concat([varint((num << 3) | 2), varint(payload.length), payload])
  const timestamp = (seconds: number) => Buffer.concat([varint(1 << 3), varint(seconds)])
  const equal = (name: string, value: string) => Buffer.concat([field(2, Buffer.from(name)), field(3, Buffer.from(value))])
  const now = Math.floor(Date.now() / 1000)
  const silence = Buffer.concat([
    field(1, Buffer.from(id)),
    field(2, equal('alertname', names[0])),
    field(3, timestamp(now - 5)),
    field(4, timestamp(now + 3600)),
    field(5, timestamp(now - 5)),
    field(8, Buffer.from('cimops-tests')),
    field(9, Buffer.from('two matcher sets')),
    ...names.map((name) => field(11, field(1, equal('alertname', name)))),
  ])
  const mesh = Buffer.concat([field(1, silence), field(2, timestamp(now + 3600 + 120 * 3600))])
  return Buffer.concat([varint(mesh.length), mesh])
}

const serverAtLeast = async (minimum: [number, number, number]) => compareVersions(parseServerVersion((await am.status()).versionInfo.version) ?? [0, 0, 0], minimum) >= 0

describe('the silence limits of Alertmanager 0.28+', () => {
  it('a refused count or size is one line naming the flag and the way out, exit 2 (from 0.28, as the server reports its version)', async (test) => {
    if (!(await serverAtLeast([0, 28, 0]))) test.skip('this Alertmanager has no silence limits')
    const limited = await ownAlertmanager('am-limits', ['--silences.max-silences=2', '--silences.max-silence-size-bytes=1000'])
    try {
      const {url} = limited
      const add = (name: string, comment = 'limits') => cli('alerts', 'silence', 'add', name, runMatcher, '--comment', comment, '--duration', '5m', '--alertmanager-url', url)

      const large = await add('CimopsTestLarge', 'x'.repeat(1200))
      expect(large.code).toBe(2)
      expect(large.stderr).toMatch(
        new RegExp(`^cimops: alertmanager at ${url}/api/v2/silences refused the request: HTTP 400: the silence is \\d+ bytes, over --silences\\.max-silence-size-bytes=1000 \\(shorten the comment[^\\n]*\\)\\n$`),
      )

      expect((await add('CimopsTestFirst')).code).toBe(0)
      const second = await add('CimopsTestSecond')
      expect(second.code).toBe(0)
      // Expired silences still count: expiring one makes no room.
      expect((await cli('alerts', 'silence', 'expire', second.stdout.trim().split('\n').at(-1)!, '--alertmanager-url', url)).code).toBe(0)
      const third = await add('CimopsTestThird')
      expect(third).toMatchObject({code: 2, stdout: ''})
      expect(third.stderr).toBe(
        `cimops: alertmanager at ${url}/api/v2/silences refused the request: HTTP 400: it holds 2 silences, expired ones included, and --silences.max-silences=2 caps them (expiring silences frees nothing: they count until its --data.retention (120h by default) drops them; raise --silences.max-silences or shorten --data.retention)\n`,
      )
      expect((await limited.client.silences()).map((silence) => silence.status.state).sort()).toEqual(['active', 'expired'])
    } finally {
      await limited.stop()
    }
  })
})

describe('a silence with several matcher sets (Alertmanager 0.33+)', () => {
  it('list is one line naming it (exit 2); expire works and says what it could not read; the list stays broken while it is kept', async (test) => {
    if (!(await serverAtLeast([0, 33, 0]))) test.skip('matcher sets came with Alertmanager 0.33')
    const id = randomUUID()
    const own = await ownAlertmanager('am-or-silence', [], orSilenceSnapshot(id, ['CimopsTestOrA', 'CimopsTestOrB']))
    try {
      const {url, client} = own
      await client.postAlerts([{labels: {alertname: 'CimopsTestOrB', test_run: RUN}, endsAt: new Date(Date.now() + 3_600_000).toISOString()}])
      const silencedBy = async () => (await client.alerts()).flatMap((alert) => alert.status.silencedBy)
      expect(await eventually(silencedBy, (ids) => ids.length > 0, 10_000, 200)).toEqual([id])

      const list = await cli('alerts', 'silence', 'list', '--alertmanager-url', url)
      expect(list).toMatchObject({code: 2, stdout: ''})
      expect(list.stderr).toMatch(new RegExp(`^cimops: alertmanager at ${url}/api/v2/silences refused the request: HTTP 500: silence ${id} has several matcher sets, which API v2 cannot show, so Alertmanager lists no silence \\(.*\\)\\n$`))

      const expired = await cli('alerts', 'silence', 'expire', id, '--alertmanager-url', url)
      expect(expired).toMatchObject({code: 0, stderr: ''})
      expect(expired.stdout).toBe(`Expired silence ${id} (it has several matcher sets, which API v2 cannot show: whether it was still active could not be read, and Alertmanager lists no silence until its --data.retention (120h by default) has passed).\n`)
      expect(await eventually(silencedBy, (ids) => ids.length === 0, 10_000, 200)).toEqual([])
      expect((await cli('alerts', 'silence', 'list', '--alertmanager-url', url)).code).toBe(2)
    } finally {
      await own.stop()
    }
  })
})

describe('bad input and unreachable servers', () => {
  it('a bad matcher exits 64 and points at the character', async () => {
    const result = await cli('alerts', 'list', runMatcher, 'severity>critical')
    expect(result.code).toBe(64)
    expect(result.stderr).toMatch(/^cimops: invalid matcher "severity>critical": expected one of =, !=, =~, !~ after the label name, found ">" at column 9: severity⟨>⟩critical/)
    const regex = await cli('alerts', 'list', 'domain=~"(graph"', '--json')
    expect(regex.code).toBe(64)
    expect(JSON.parse(regex.stdout).error).toMatchObject({code: 'USAGE', exit: 64, message: expect.stringMatching(/invalid regular expression: Unterminated group at column 10: domain=~"⟨\(⟩graph"$/)})
  })

  it('an unreachable Alertmanager or Prometheus exits 69 naming the address', async () => {
    const port = await freePort()
    const list = await cli('alerts', 'list', '--alertmanager-url', `http://127.0.0.1:${port}`)
    expect(list.code).toBe(69)
    expect(list.stderr).toMatch(new RegExp(`^cimops: cannot reach alertmanager at http://127\\.0\\.0\\.1:${port}/api/v2/alerts: connection refused`))
    const silences = await cli('alerts', 'silence', 'list', '--alertmanager-url', `http://127.0.0.1:${port}`, '--json')
    expect(silences.code).toBe(69)
    expect(JSON.parse(silences.stdout).error).toMatchObject({code: 'UNREACHABLE', exit: 69})
    const history = await cli('alerts', 'history', '--prometheus-url', `http://127.0.0.1:${port}`)
    expect(history.code).toBe(69)
    expect(history.stderr).toMatch(new RegExp(`cannot reach prometheus at http://127\\.0\\.0\\.1:${port}/api/v1/query_range`))
  })
})

/**
 * `cimops domain health` through the built CLI against a sandbox (nats-server, Prometheus, Alertmanager):
 * the seeded domains, plus `billing` whose projection billing-ledger has work pending and stalls, `archive`
 * whose events stop, and a warning alert labelled domain=identity. Every count is compared with the
 * server's own (per-subject counts, consumer info); the exact window count with a count made here.
 * Run `npm run build` first.
 */
import {type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createAlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import {openNatsSession} from '../../src/lib/adapters/nats/session.js'
import {countMatchingSince} from '../../src/lib/adapters/nats/window-counts.js'
import type {DomainHealthReport} from '../../src/lib/domains/model.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli, type CliResult} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const STREAM = 'EVENTS'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('cimops domain health against a sandbox', () => {
  const sandbox = useSandbox()
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  let js: JetStreamClient
  const cli = (...args: string[]): Promise<CliResult> => runCli(['domain', 'health', ...args], home.env)
  const publish = async (domain: string, count: number, type = 'ThingHappened') => {
    for (let i = 0; i < count; i++) await js.publish(`cim.${domain}.thing.t${i}.${type}`, JSON.stringify({i}))
  }
  /** The server's own count of a domain's stored events: per-subject counts. */
  const serverStored = async (domain: string) => Object.values((await jsm.streams.info(STREAM, {subjects_filter: `cim.${domain}.>`})).state.subjects ?? {}).reduce((a, b) => a + b, 0)

  beforeAll(async () => {
    const {state} = sandbox()
    home = await isolatedHome()
    await seedSandbox(state.natsServers)
    await mkdir(join(home.env.XDG_CONFIG_HOME, 'cimops'), {recursive: true})
    await writeFile(
      join(home.env.XDG_CONFIG_HOME, 'cimops', 'config.yaml'),
      [
        'current-context: domains',
        'contexts:',
        '  domains:',
        `    nats: {servers: [${state.natsServers.join(', ')}]}`,
        `    prometheus: {url: ${state.prometheusUrl}}`,
        `    alertmanager: {url: ${state.alertmanagerUrl}}`,
        '    thresholds: {lagWarn: 1s, lagCrit: 1h, stallAfter: 2s}',
        '    timeout: 3s',
      ].join('\n') + '\n',
    )
    nc = await connect({servers: state.natsServers})
    jsm = await jetstreamManager(nc)
    js = jetstream(nc)
    // The seeded stream takes the seed's domains only: these tests add theirs.
    const {config} = await jsm.streams.info(STREAM)
    await jsm.streams.update(STREAM, {...config, subjects: [...config.subjects!, ...['billing', 'archive', 'chatty', 'counting', 'other'].map((d) => `cim.${d}.>`)]})

    // billing: 12 events, 2 of them failed; its projection takes 5 and acknowledges none, then stops.
    await publish('billing', 10, 'InvoiceIssued')
    await publish('billing', 2, 'InvoiceFailed')
    await jsm.consumers.add(STREAM, {durable_name: 'billing-ledger', ack_policy: 'explicit', filter_subject: 'cim.billing.>', ack_wait: 3_600_000_000_000})
    const ledger = await js.consumers.get(STREAM, 'billing-ledger')
    let taken = 0
    for await (const _m of await ledger.fetch({max_messages: 5, expires: 2000})) if (++taken === 5) break
    // archive: 12 events, then nothing; chatty: 10 now and one more just before it is checked.
    await publish('archive', 12)
    await publish('chatty', 10)
    const am = createAlertmanagerClient({url: state.alertmanagerUrl!}, 5000)
    await am.postAlerts([{labels: {alertname: 'IdentityErrors', severity: 'warning', domain: 'identity'}, annotations: {summary: 'logins failing'}, startsAt: new Date(Date.now() - 60_000).toISOString()}])
    // Past stallAfter (2s) and the silence minimum the tests pass (2s).
    await sleep(2500)
  })

  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
  })

  it('every domain with the server\'s numbers; a stalled projection is CRITICAL, a firing alert WARNING', async () => {
    const result = await cli('--json')
    expect(result.code, result.stderr).toBe(2)
    const report = JSON.parse(result.stdout) as DomainHealthReport
    expect(report).toMatchObject({status: 'CRITICAL', stream: STREAM, context: 'domains'})
    console.log(`domain health: ${report.durationSeconds}s inside, ${Math.round(result.durationMs)}ms wall clock`)
    expect(report.domains.map((d) => d.domain)).toEqual(['agent', 'archive', 'billing', 'chatty', 'counting', 'document', 'graph', 'identity', 'other', 'workflow'])
    const info = await jsm.streams.info(STREAM)
    for (const domain of report.domains) {
      const stored = await serverStored(domain.domain)
      expect(domain.events.stored, domain.domain).toBe(stored)
      // Everything was stored within the last few seconds: both windows hold all of it.
      expect(domain.events.lastHour, domain.domain).toMatchObject({count: stored, overLimit: false, seconds: 3600})
      expect(domain.events.lastFiveMinutes.count, domain.domain).toBe(stored)
      const newest = stored === 0 ? null : await jsm.streams.getMessage(STREAM, {last_by_subj: `cim.${domain.domain}.>`})
      expect(domain.events.newestAt, domain.domain).toBe(newest?.time.toISOString() ?? null)
      expect(domain.storage, domain.domain).toEqual({estimated: true, share: Math.round((stored / info.state.messages) * 1e4) / 1e4, bytes: Math.round((info.state.bytes * stored) / info.state.messages)})
      expect(domain.events.prometheus).toEqual({ratePerSecond: null, lastHour: null, failedLastHour: null})
    }
    const domain = (name: string) => report.domains.find((d) => d.domain === name)!
    expect(domain('billing')).toMatchObject({status: 'CRITICAL', failed: {stored: 2, byType: {InvoiceFailed: 2}}})
    const ledger = domain('billing').projections[0]
    const ledgerInfo = await jsm.consumers.info(STREAM, 'billing-ledger')
    expect(ledger).toMatchObject({consumer: 'billing-ledger', projection: 'ledger', state: 'stalled', status: 'CRITICAL'})
    expect(ledger.pending).toBeGreaterThanOrEqual(ledgerInfo.num_ack_pending)
    expect(ledgerInfo.num_ack_pending).toBe(5)
    const workflowFailed = Object.values((await jsm.streams.info(STREAM, {subjects_filter: 'cim.workflow.*.*.WorkflowFailed'})).state.subjects ?? {}).reduce((a, b) => a + b, 0)
    expect(workflowFailed).toBeGreaterThan(0)
    expect(domain('workflow').failed).toMatchObject({stored: workflowFailed, byType: {WorkflowFailed: workflowFailed}})
    // The seed's lagging projection has had work pending and no delivery for longer than stallAfter (2s).
    expect(domain('workflow').projections.find((p) => p.consumer === 'workflow-analytics')).toMatchObject({state: 'stalled', status: 'CRITICAL'})
    for (const p of domain('graph').projections) {
      const server = await jsm.consumers.info(STREAM, p.consumer)
      expect(p, p.consumer).toMatchObject({state: 'ok', lagSeconds: 0, pending: server.num_pending + server.num_ack_pending})
    }
    expect(domain('identity')).toMatchObject({status: 'WARNING', alerts: [{alertname: 'IdentityErrors', severity: 'warning', summary: 'logins failing'}]})
    expect(domain('identity').reasons).toContain('alert IdentityErrors firing (warning)')
    expect(report.notes).toContain('Prometheus has no cim_events_total (is the event monitor running?): rates from the stream only')
    expect(report.checks.map((c) => c.name)).toContain('domain:billing')
  })

  it('a domain gone silent is a WARNING; one still speaking is not; exit codes follow the named domains', async () => {
    await publish('chatty', 1)
    const result = await cli('archive', 'chatty', '--silence-min', '2s', '--json')
    const report = JSON.parse(result.stdout) as DomainHealthReport
    expect(result.code, JSON.stringify(report.domains.map((d) => d.reasons))).toBe(1)
    const [archive, chatty] = report.domains
    expect(archive).toMatchObject({domain: 'archive', status: 'WARNING', silence: {silent: true}})
    expect(archive.silence.typicalGapSeconds).toBeGreaterThan(0)
    expect(archive.reasons[0]).toMatch(/^silent: newest event \d+s ago, usually one every /)
    // Its usual gap is the whole test so far over its 11 events: well above the 2s it has been quiet.
    expect(chatty).toMatchObject({domain: 'chatty', status: 'OK', silence: {silent: false}})

    expect((await cli('graph')).code).toBe(0)
    const text = await cli('billing')
    expect(text.code).toBe(2)
    expect(text.stdout).toMatch(/^CRITICAL 1 domain on EVENTS: 1 CRITICAL — billing: billing-ledger stalled/)
    expect(text.stdout).toContain('STORAGE ≈')
    const typo = await cli('biling')
    expect(typo.code).toBe(64)
    expect(typo.stderr).toMatch(/unknown domain "biling".*known domains on EVENTS: agent, archive, billing/s)
  })

  it('countMatchingSince counts exactly from a time part-way into the stream, and stops at its limit', async () => {
    const settings = {servers: sandbox().state.natsServers}
    const session = openNatsSession(settings, {timeoutMs: 5000})
    try {
      const jet = await session.jetstream()
      await publish('counting', 7)
      await sleep(50)
      const since = new Date()
      await sleep(50)
      await publish('counting', 9)
      await publish('other', 4)
      await sleep(50)
      const until = new Date()
      await sleep(50)
      await publish('counting', 2)
      expect(await countMatchingSince(jet, STREAM, 'cim.counting.>', since, {limit: 100, until})).toBe(9)
      expect(await countMatchingSince(jet, STREAM, 'cim.counting.>', until, {limit: 100, until: new Date(until.getTime() + 60_000)})).toBe(2)
      expect(await countMatchingSince(jet, STREAM, 'cim.counting.>', since, {limit: 100})).toBe(11)
      expect(await countMatchingSince(jet, STREAM, 'cim.counting.>', new Date(0), {limit: 100})).toBe(18)
      expect(await countMatchingSince(jet, STREAM, 'cim.counting.>', since, {limit: 5})).toBe(6)
      expect(await countMatchingSince(jet, STREAM, 'cim.none.>', since, {limit: 5})).toBe(0)
    } finally {
      await session.close()
    }
  })
})

import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {jetstream} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'

import {selectSandboxContext} from '../../src/lib/sandbox/context.js'
import {readSandboxState, sandboxDown, sandboxUp} from '../../src/lib/sandbox/index.js'
import type {SandboxState} from '../../src/lib/sandbox/types.js'
import type {DrStatusReport} from '../../src/lib/dr/status.js'
import {type CliResult, isolatedHome, okJson, runCli} from '../helpers/cli.js'
import {withJsm} from '../helpers/sites.js'
import {linkProxy, type LinkProxy} from '../helpers/link-proxy.js'

/** 2.11+ resumes a mirror 30–45 s after its link returns (reference/nats-sites-dr.md §5): bounded well above that. */
const RECOVERY_WAIT_MS = 90_000
/** Thresholds small enough to cross within seconds of cutting the link, the WARNING window wide enough for a slow CLI start. */
const RPO = ['--rpo-warn', '2s', '--rpo-crit', '10s']

/** Polls `probe` until `accept` holds; the last value either way, so the assertion after it shows what was seen. */
async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (accept(value) || Date.now() > deadline) return value
    await sleep(250)
  }
}

/** Subject, data and time of every message of the range, hashed in order: equal digests, equal copies. */
async function digest(servers: string[], stream: string, from: number, to: number): Promise<string> {
  return withJsm(servers, async (jsm) => {
    const hash = createHash('sha256')
    for (let seq = from; seq <= to; seq++) {
      const message = await jsm.streams.getMessage(stream, {seq})
      if (message) hash.update(`${seq}\0${message.subject}\0${message.timestamp}\0`).update(message.data)
    }
    return hash.digest('hex')
  })
}

/**
 * `dr status` against a real two-site sandbox (a DR site as a leaf node with its own JetStream domain), the leaf
 * link running through a proxy the test cuts while events keep arriving at the primary.
 */
describe('dr status on two sites', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let proxy: LinkProxy
  let state: SandboxState
  let stateDir: string
  const dr = (args: string[]): Promise<CliResult> => runCli(['dr', 'status', ...args], home.env)
  const drJson = async (args: string[]) => {
    const result = await dr([...args, '--json'])
    return {code: result.code, report: JSON.parse(result.stdout) as DrStatusReport}
  }

  beforeAll(async () => {
    home = await isolatedHome()
    stateDir = join(home.env.XDG_DATA_HOME!, 'cimops', 'sandbox')
    proxy = await linkProxy(async () => (await readSandboxState(stateDir))?.processes.find((p) => p.name === 'nats-1')?.leafnodePort)
    ;({state} = await sandboxUp({stateDir, sites: 2, components: ['nats'], leafLinkPort: proxy.port}))
    // The contexts `sandbox up` writes, in the isolated home.
    vi.stubEnv('XDG_CONFIG_HOME', home.env.XDG_CONFIG_HOME!)
    vi.stubEnv('CIMOPS_CONFIG', '')
    try {
      await selectSandboxContext(state)
    } finally {
      vi.unstubAllEnvs()
    }
    const seed = await runCli(['sandbox', 'seed', '--json'], home.env)
    expect(seed.code, seed.stderr).toBe(0)
  }, 60_000)
  afterAll(async () => {
    await sandboxDown(stateDir)
    await proxy?.close()
    await home?.cleanup()
  })

  it('a complete mirror is OK: nothing behind, measured at the origin across the link', async () => {
    const result = await dr(['--context', 'sandbox-dr'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/sandbox-dr\s+EVENTS_DR\s+mirror\s+EVENTS@primary\s+0\s+0s\s+\S+ ago\s+OK/)

    const report = okJson<DrStatusReport>(await dr(['--context', 'sandbox-dr', '--json']))
    expect(report).toMatchObject({status: 'OK', splitBrain: [], primaries: [], contexts: [{context: 'sandbox-dr', domain: 'dr', status: 'OK', thresholds: {rpoWarnSeconds: 30, rpoCritSeconds: 300}}]})
    expect(report.links).toEqual([
      expect.objectContaining({
        context: 'sandbox-dr',
        stream: 'EVENTS_DR',
        kind: 'mirror',
        origin: 'EVENTS',
        originDomain: 'primary',
        apiPrefix: '$JS.primary.API',
        messagesBehind: 0,
        secondsBehind: 0,
        secondsBehindIsBound: false,
        originReachable: true,
        status: 'OK',
      }),
    ])

    const nagios = await dr(['--context', 'sandbox-dr', '--format', 'nagios', ...RPO])
    expect(nagios.code).toBe(0)
    expect(nagios.stdout.trim()).toMatch(/^OK .* \| EVENTS_DR_lag=0 EVENTS_DR_active=[\d.]+s EVENTS_DR_seconds_behind=0s;2;10 EVENTS_DR_messages_behind=0 split_brain=0$/)
  })

  it('health-check --component replication shows the same link, and nothing to check at a site that copies nothing', async () => {
    const atDr = okJson<{status: string; checks: Array<{name: string; component: string; status: string; metrics: Array<{name: string; value: number}>}>}>(
      await runCli(['health-check', '--component', 'replication', '--context', 'sandbox-dr', '--json'], home.env),
    )
    expect(atDr.checks.map((c) => [c.name, c.component, c.status])).toEqual([['replication:EVENTS_DR', 'replication', 'OK']])
    expect(atDr.checks[0].metrics).toEqual(expect.arrayContaining([{name: 'seconds_behind', value: 0, unit: 's', warn: 30, crit: 300}, {name: 'messages_behind', value: 0}]))
    const atPrimary = okJson<{checks: Array<{name: string; status: string; summary: string}>}>(
      await runCli(['health-check', '--component', 'replication', '--context', 'sandbox', '--json'], home.env),
    )
    expect(atPrimary.checks).toEqual([expect.objectContaining({name: 'replication', status: 'OK'})])
  })

  it('the link goes down while events keep arriving: WARNING, then CRITICAL as seconds behind grow; back up: OK and the mirror complete', async () => {
    const nc = await connect({servers: state.natsServers})
    const js = jetstream(nc)
    let publishing = true
    let published = 0
    // About 10 events a second at the primary, bounded in count, until the link is back and the copy caught up.
    const publisher = (async () => {
      while (publishing && published < 2000) {
        await js.publish(`cim.graph.dr-test.${published}`, JSON.stringify({n: published}))
        published++
        await sleep(100)
      }
    })()
    try {
      await sleep(500)
      proxy.cut()
      const status = () => drJson(['--context', 'sandbox-dr', ...RPO, '--timeout', '1s'])
      const warning = await until(status, ({report}) => report.status !== 'OK', 20_000)
      expect(warning.report.status, JSON.stringify(warning.report)).toBe('WARNING')
      expect(warning.code).toBe(1)
      expect(warning.report.links[0]).toMatchObject({originReachable: false, secondsBehindIsBound: true, status: 'WARNING'})
      expect(warning.report.links[0].summary).toContain('origin unreachable')
      const critical = await until(status, ({report}) => report.status === 'CRITICAL', 20_000)
      expect(critical.code, JSON.stringify(critical.report)).toBe(2)
      expect(critical.report.links[0].secondsBehind).toBeGreaterThanOrEqual(10)

      proxy.restore()
      const recovered = await until(status, ({report}) => report.status === 'OK' && report.links[0]?.messagesBehind === 0, RECOVERY_WAIT_MS)
      expect(recovered.report.links[0], JSON.stringify(recovered.report)).toMatchObject({status: 'OK', originReachable: true, messagesBehind: 0, secondsBehind: 0})
    } finally {
      proxy.restore()
      publishing = false
      await publisher
      await nc.close()
    }
    expect(published).toBeGreaterThan(50)
    // Complete: once the last events are copied, the same count and the same messages at both sites.
    const infos = () => Promise.all([withJsm(state.natsServers, (jsm) => jsm.streams.info('EVENTS')), withJsm(state.drNatsServers!, (jsm) => jsm.streams.info('EVENTS_DR'))])
    const [origin, copy] = await until(infos, ([o, c]) => o.state.last_seq === c.state.last_seq, 20_000)
    expect(copy.state.messages).toBe(origin.state.messages)
    const from = Math.max(origin.state.first_seq, copy.state.first_seq)
    const to = origin.state.last_seq
    expect(await digest(state.drNatsServers!, 'EVENTS_DR', from, to)).toBe(await digest(state.natsServers, 'EVENTS', from, to))
  }, 180_000)

  it('a second writable stream on the same subjects at the linked DR site is a split brain naming both sites', async () => {
    await withJsm(state.drNatsServers!, (jsm) => jsm.streams.add({name: 'EVENTS_COPY', subjects: ['cim.>']}))
    try {
      const alone = await drJson(['--context', 'sandbox-dr'])
      expect(alone.code).toBe(2)
      expect(alone.report.status).toBe('CRITICAL')
      expect(alone.report.splitBrain).toEqual(
        expect.arrayContaining([expect.objectContaining({a: {site: 'sandbox-dr', domain: 'dr', stream: 'EVENTS_COPY'}, b: {site: 'domain primary', domain: 'primary', stream: 'EVENTS'}, why: 'linked'})]),
      )

      const both = await drJson(['--context', 'sandbox', '--context', 'sandbox-dr'])
      expect(both.code).toBe(2)
      const brain = both.report.splitBrain.find((b) => [b.a.stream, b.b.stream].sort().join() === 'EVENTS,EVENTS_COPY')
      expect(brain?.summary).toMatch(/^split brain: EVENTS(_COPY)? at sandbox(-dr)? and EVENTS(_COPY)? at sandbox(-dr)? both take /)
      expect(new Set([brain?.a.site, brain?.b.site])).toEqual(new Set(['sandbox', 'sandbox-dr']))
      expect(both.report.contexts.map((c) => [c.context, c.status])).toEqual([
        ['sandbox', 'CRITICAL'],
        ['sandbox-dr', 'CRITICAL'],
      ])
      const text = await dr(['--context', 'sandbox', '--context', 'sandbox-dr'])
      expect(text.stdout).toMatch(/^CRITICAL split brain: .*EVENTS_COPY at sandbox-dr/m)

      const health = await runCli(['health-check', '--component', 'replication', '--context', 'sandbox-dr', '--json'], home.env)
      expect(health.code).toBe(2)
      const checks = (JSON.parse(health.stdout) as {checks: Array<{name: string; status: string; summary: string}>}).checks
      expect(checks.find((c) => c.name === 'replication:EVENTS_COPY')).toMatchObject({status: 'CRITICAL', summary: expect.stringContaining('split brain: EVENTS_COPY at sandbox-dr and EVENTS at domain primary')})
    } finally {
      await withJsm(state.drNatsServers!, (jsm) => jsm.streams.delete('EVENTS_COPY'))
    }
    expect((await drJson(['--context', 'sandbox', '--context', 'sandbox-dr'])).report.status).toBe('OK')
  })
})

/**
 * The adapters against the real servers of the sandbox (the set CIMOPS_SERVERS chooses: nats-server
 * 2.9 to 2.15, Prometheus 2.42 to 3.5, Alertmanager 0.25 to 0.33). Nothing is mocked at the network boundary.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import type {NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiError, UnreachableError} from '../../src/lib/core/errors.js'
import {createAlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import type {Alert as AmAlert} from '../../src/lib/adapters/alertmanager/schema.js'
import {connectNats, jetstreamManagerFor, serverInfo, withNats} from '../../src/lib/adapters/nats/connection.js'
import {compareVersions, parseServerVersion, SERVER_FEATURES, type ServerFeature, serverApiLevel, serverFeatures} from '../../src/lib/adapters/nats/versions.js'
import {createPrometheusClient} from '../../src/lib/adapters/prometheus/client.js'
import type {AlertingRule} from '../../src/lib/adapters/prometheus/schema.js'
import {findServerBinary, serverBinaryVersion} from '../../src/lib/sandbox/index.js'
import {freePort} from '../helpers/monitor.js'
import {startTestSandbox, useSandbox, type TestSandbox} from '../helpers/sandbox.js'

const TIMEOUT_MS = 5000
const sandbox = useSandbox()
/** The version a sandbox server's binary reports (`--version`, recorded by the sandbox): what its API must say too. */
const binaryVersion = (component: string) => sandbox().state.processes.find((proc) => proc.component === component)?.version ?? 'none recorded'

/** Polls until `probe` returns a value, for server-side work that happens on an interval. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe()
    if (value !== undefined) return value
    await sleep(250)
  }
  throw new Error(`timed out waiting for ${what}`)
}


function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({host: '127.0.0.1', port})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe("prometheus adapter against the sandbox's Prometheus", () => {
  const prometheus = () => createPrometheusClient({url: sandbox().state.prometheusUrl ?? ''}, TIMEOUT_MS)

  beforeAll(async () => {
    const proc = sandbox().state.processes.find((candidate) => candidate.component === 'prometheus')
    if (!proc) throw new Error('the sandbox has no prometheus')
    // The sandbox's Prometheus loads rules/*.yml next to its config on reload.
    const rules = [
      'groups:',
      '  - name: cimops-adapter-test',
      '    rules:',
      '      - alert: CimopsAdapterAlwaysFiring',
      '        expr: vector(1)',
      '        labels: {severity: warning}',
      '        annotations: {summary: always firing}',
      '      - record: cimops:up:sum',
      '        expr: sum(up)',
    ].join('\n')
    await writeFile(join(dirname(proc.configFile), 'rules', 'cimops-adapter-test.yml'), rules + '\n')
    const reload = await fetch(`${proc.url}/-/reload`, {method: 'POST'})
    expect(reload.status).toBe(200)
  })

  it('ready() and buildInfo()', async () => {
    await expect(prometheus().ready()).resolves.toEqual({ready: true, detail: 'Prometheus Server is Ready.'})
    const info = await prometheus().buildInfo()
    // Debian's builds add a suffix (`2.42.0+ds`).
    expect(info.version.startsWith(binaryVersion('prometheus'))).toBe(true)
  })

  it('targets() lists the scrape pools of the sandbox', async () => {
    // Discovery hands targets to the scrape manager a few seconds after a start or reload.
    const {activeTargets, droppedTargets} = await eventually(async () => {
      const targets = await prometheus().targets()
      const pools = targets.activeTargets.map((target) => target.scrapePool)
      return pools.includes('prometheus') && pools.includes('alertmanager') ? targets : undefined
    }, 'the prometheus and alertmanager targets')
    const self = activeTargets.find((target) => target.scrapePool === 'prometheus')
    expect(self).toMatchObject({scrapeUrl: `${sandbox().state.prometheusUrl}/metrics`, labels: {job: 'prometheus'}})
    expect(['up', 'unknown']).toContain(self?.health)
    expect(droppedTargets).toEqual(expect.any(Array))
  })

  it('rules() and alerts() see a firing alerting rule and a recording rule', async () => {
    const rule = await eventually(async () => {
      const groups = await prometheus().rules('alert')
      const found = groups.flatMap((group) => group.rules).find((candidate) => candidate.name === 'CimopsAdapterAlwaysFiring')
      return found?.type === 'alerting' && found.state === 'firing' ? found : undefined
    }, 'the alerting rule to fire')
    expect(rule).toMatchObject<Partial<AlertingRule>>({health: 'ok', labels: {severity: 'warning'}, annotations: {summary: 'always firing'}})
    expect(rule.alerts[0]).toMatchObject({state: 'firing', value: 1, labels: {alertname: 'CimopsAdapterAlwaysFiring', severity: 'warning'}})

    const recording = (await prometheus().rules('record')).flatMap((group) => group.rules)
    expect(recording).toContainEqual(expect.objectContaining({type: 'recording', name: 'cimops:up:sum', health: expect.any(String)}))
    expect(recording.every((candidate) => candidate.type === 'recording')).toBe(true)

    const alerts = await prometheus().alerts()
    expect(alerts.find((alert) => alert.labels.alertname === 'CimopsAdapterAlwaysFiring')).toMatchObject({state: 'firing', value: 1})
  })

  it('query() returns typed vector and scalar results', async () => {
    const vector = await prometheus().query('vector(42)')
    expect(vector).toMatchObject({resultType: 'vector', result: [{metric: {}, value: 42}], warnings: []})
    const scalar = await prometheus().query('time()', new Date(1_700_000_000_000))
    expect(scalar).toMatchObject({resultType: 'scalar', result: {time: 1_700_000_000, value: 1_700_000_000}})
    const nan = await prometheus().query('vector(0) / 0')
    expect(nan.resultType === 'vector' && Number.isNaN(nan.result[0]?.value)).toBe(true)
  })

  it('queryRange() returns a matrix', async () => {
    const end = new Date()
    const {result} = await prometheus().queryRange('vector(7)', new Date(end.getTime() - 60_000), end, 15)
    expect(result).toHaveLength(1)
    expect(result[0].values.length).toBeGreaterThanOrEqual(4)
    expect(result[0].values.every((sample) => sample.value === 7)).toBe(true)
  })

  it('a bad expression is an ApiError carrying the server message', async () => {
    const error = await prometheus().query('sum(').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 400, system: 'prometheus', address: `${sandbox().state.prometheusUrl}/api/v1/query`})
    expect((error as ApiError).why).toMatch(/^HTTP 400: bad_data: invalid parameter "query": .*unclosed left parenthesis/)
  })
})

describe("alertmanager adapter against the sandbox's Alertmanager", () => {
  const alertmanager = () => createAlertmanagerClient({url: sandbox().state.alertmanagerUrl ?? ''}, TIMEOUT_MS)
  const run = randomUUID()
  const labels = {alertname: 'CimopsAdapterTest', severity: 'warning', test_run: run}

  it('status() reports the version and a disabled cluster (no gossip in the sandbox)', async () => {
    const status = await alertmanager().status()
    expect(status.versionInfo.version.startsWith(binaryVersion('alertmanager'))).toBe(true)
    expect(status.cluster).toEqual({status: 'disabled', peers: []})
    expect(Number.isNaN(Date.parse(status.uptime))).toBe(false)
  })

  it('postAlerts() then alerts() returns it; a silence suppresses it; expiring it lifts that', async () => {
    const client = alertmanager()
    await client.postAlerts([{labels, annotations: {summary: 'posted by the adapter test'}, generatorURL: 'http://example.invalid/graph'}])
    const filter = ['alertname="CimopsAdapterTest"', `test_run="${run}"`]
    const posted = await eventually(async () => (await client.alerts({filter})).find((alert) => alert.status.state === 'active'), 'the posted alert')
    expect(posted).toMatchObject<Partial<AmAlert>>({labels, annotations: {summary: 'posted by the adapter test'}, generatorURL: 'http://example.invalid/graph'})
    expect(posted.receivers).toEqual([{name: 'null'}])
    expect(posted.fingerprint).toMatch(/^[0-9a-f]+$/)
    expect(await client.alerts({filter: [`test_run="${randomUUID()}"`]})).toEqual([])

    const now = Date.now()
    const id = await client.createSilence({
      matchers: [{name: 'test_run', value: run, isRegex: false, isEqual: true}],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy: 'cimops-tests',
      comment: 'adapter integration test',
    })
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const listed = (await client.silences()).find((silence) => silence.id === id)
    expect(listed).toMatchObject({status: {state: 'active'}, createdBy: 'cimops-tests', matchers: [{name: 'test_run', value: run, isRegex: false, isEqual: true}]})

    const silenced = await eventually(
      async () => (await client.alerts({filter, silenced: true})).find((alert) => alert.status.silencedBy.includes(id)),
      'the alert to be silenced',
    )
    expect(silenced.status.state).toBe('suppressed')
    expect(await client.alerts({filter, silenced: false})).toEqual([])

    await client.expireSilence(id)
    await client.expireSilence(id) // idempotent once expired
    expect((await client.silences()).find((silence) => silence.id === id)?.status.state).toBe('expired')
  })

  it('expireSilence() of an unknown id is an ApiError that says so (0.25 answers 500, 0.26+ 404)', async () => {
    const unknown = randomUUID()
    const error = await alertmanager().expireSilence(unknown).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    const version = parseServerVersion((await alertmanager().status()).versionInfo.version)!
    const status = compareVersions(version, [0, 26, 0]) < 0 ? 500 : 404
    expect(error).toMatchObject({status, why: `silence ${unknown} not found`, address: `${sandbox().state.alertmanagerUrl}/api/v2/silence/${unknown}`})
  })

  it('a bad matcher is an ApiError with the server message', async () => {
    await expect(alertmanager().alerts({filter: ['foo']})).rejects.toMatchObject({status: 400, why: 'HTTP 400: bad matcher format: foo'})
  })
})

describe("nats adapter against the sandbox's nats-server", () => {
  const settings = () => ({servers: sandbox().state.natsServers})

  it('serverApiLevel(): the level $JS.API.INFO reports from 2.11 on, none before; the gates agree with the version table', async () => {
    await withNats(settings(), {timeoutMs: TIMEOUT_MS}, async (nc) => {
      const version = serverInfo(nc).version
      const level = await serverApiLevel(await jetstreamManagerFor(nc, settings(), TIMEOUT_MS))
      if (compareVersions(parseServerVersion(version)!, [2, 11, 0]) >= 0) expect(level).toBeGreaterThanOrEqual(1)
      else expect(level).toBeUndefined()
      const [byLevel, byVersion] = [serverFeatures(version, level), serverFeatures(version)]
      for (const feature of Object.keys(SERVER_FEATURES) as ServerFeature[]) expect([feature, byLevel.has(feature)]).toEqual([feature, byVersion.has(feature)])
    })
  })

  it('connectNats() and serverInfo()', async () => {
    const nc = await connectNats(settings(), {timeoutMs: TIMEOUT_MS})
    try {
      // The version in INFO is the one the binary itself reports (`nats-server --version`, recorded by the sandbox).
      expect(binaryVersion('nats')).toMatch(/^\d+\.\d+\.\d+/)
      expect(serverInfo(nc)).toMatchObject({version: binaryVersion('nats'), jetstream: true})
      expect(serverInfo(nc).serverName).not.toBe('')
    } finally {
      await nc.close()
    }
  })

  it('jetstreamManagerFor() works inside withNats(), which closes the connection', async () => {
    let used: NatsConnection | undefined
    const info = await withNats(settings(), {timeoutMs: TIMEOUT_MS, name: 'cimops-adapter-test'}, async (nc) => {
      used = nc
      return (await jetstreamManagerFor(nc, settings(), TIMEOUT_MS)).getAccountInfo()
    })
    expect(info.limits).toBeDefined()
    expect(used?.isClosed()).toBe(true)
  })

  it('withNats() closes the connection when the work fails', async () => {
    let used: NatsConnection | undefined
    const failing = withNats(settings(), {timeoutMs: TIMEOUT_MS}, async (nc) => {
      used = nc
      throw new Error('work failed')
    })
    await expect(failing).rejects.toThrow('work failed')
    expect(used?.isClosed()).toBe(true)
  })

  it('a free closed port is UnreachableError with the address, within the timeout', async () => {
    const port = await freePort()
    const started = performance.now()
    const error = await connectNats({servers: [`nats://127.0.0.1:${port}`]}, {timeoutMs: 2000}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error).toMatchObject({address: `nats://127.0.0.1:${port}`})
    expect(performance.now() - started).toBeLessThan(2000)
  })
})

describe('nats adapter against a nats-server without JetStream', () => {
  let noJetStream: TestSandbox

  beforeAll(async () => {
    noJetStream = await startTestSandbox({components: ['nats'], jetstream: false})
  })

  afterAll(async () => {
    await noJetStream?.stop()
  })

  it('jetstreamManagerFor() fails with an ApiError saying JetStream is not enabled', async () => {
    const settings = {servers: noJetStream.state.natsServers}
    const error = await withNats(settings, {timeoutMs: TIMEOUT_MS}, async (nc) => {
      expect(serverInfo(nc).jetstream).toBe(false)
      return jetstreamManagerFor(nc, settings, TIMEOUT_MS)
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({system: 'nats', why: 'JetStream is not enabled on this server/account'})
  })
})

/** The sandbox has no auth option, so this one token-protected server is started here. */
describe('nats adapter against a token-protected nats-server', () => {
  const TOKEN = 'right-token-31337'
  let dir: string
  let server: ChildProcess
  let url: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimops-nats-auth-'))
    const port = await freePort()
    const config = join(dir, 'nats.conf')
    await writeFile(config, `listen: "127.0.0.1:${port}"\nauthorization { token: "${TOKEN}" }\n`)
    server = spawn(findServerBinary('nats'), ['-c', config], {stdio: 'ignore'})
    url = `nats://127.0.0.1:${port}`
    await eventually(async () => ((await portAccepts(port)) ? true : undefined), 'the token-protected nats-server', 10_000)
  })

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve))
      server.kill('SIGTERM')
      await exited
    }
    await rm(dir, {recursive: true, force: true})
  })

  it('the right token connects', async () => {
    const expected = await serverBinaryVersion(findServerBinary('nats'))
    await expect(withNats({servers: [url], token: TOKEN}, {timeoutMs: TIMEOUT_MS}, async (nc) => serverInfo(nc).version)).resolves.toBe(expected)
  })

  it('a wrong token is an ApiError with a hint, and the token is never shown', async () => {
    const error = await connectNats({servers: [url], token: 'wrong-token-666'}, {timeoutMs: TIMEOUT_MS}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({system: 'nats', address: url, why: 'authorization violation'})
    expect((error as ApiError).hint).toMatch(/--nats-creds/)
    expect(JSON.stringify(error) + String(error)).not.toContain('wrong-token-666')
  })

  it('a token in the URL is used for auth but stripped from errors', async () => {
    const port = new URL(url).port
    const error = await connectNats({servers: [`nats://wrong-url-token@127.0.0.1:${port}`]}, {timeoutMs: TIMEOUT_MS}).catch((caught: unknown) => caught)
    expect(error).toMatchObject({address: url, why: 'authorization violation'})
    expect(JSON.stringify(error) + String(error)).not.toContain('wrong-url-token')
  })
})

import {chmod, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstreamManager, type JetStreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {OperationError} from '../../src/lib/core/errors.js'
import {
  readSandboxState,
  restartProcess,
  sandboxDown,
  sandboxStatus,
  sandboxUp,
  seedSandbox,
  stopProcess,
  type SandboxState,
  type SeedResult,
} from '../../src/lib/sandbox/index.js'
import {startTestSandbox} from '../helpers/sandbox.js'
import {isProcessAlive} from '../../src/lib/sandbox/processes.js'

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
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

async function withJetStream<T>(servers: string[], work: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({servers})
  try {
    return await work(await jetstreamManager(nc))
  } finally {
    await nc.close()
  }
}

describe('sandbox lifecycle against the real servers', () => {
  let stateDir: string
  let state: SandboxState
  let firstSeed: SeedResult
  /** Where the lagging consumer stood after the first seed. */
  let laggingPosition: {delivered: number; ackFloor: number}

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'cimops-sandbox-test-'))
  })
  afterAll(async () => {
    // Safety net when a step failed half-way.
    await sandboxDown(stateDir)
    await rm(stateDir, {recursive: true, force: true})
  })

  it('up starts nats, prometheus and alertmanager on loopback and records them', async () => {
    const lines: string[] = []
    const result = await sandboxUp({stateDir, log: (line) => lines.push(line)})
    state = result.state
    expect(result.alreadyRunning).toBe(false)
    expect(state.processes.map((p) => p.name)).toEqual(['nats-1', 'prometheus', 'alertmanager'])
    for (const proc of state.processes) {
      expect(proc.url).toMatch(/^(nats|http):\/\/127\.0\.0\.1:\d+$/)
      expect(pidExists(proc.pid)).toBe(true)
    }
    expect(state.natsServers).toEqual([state.processes[0]?.url])
    expect(state.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(state.alertmanagerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await readSandboxState(stateDir)).toEqual(state)
    expect(lines).toContain('prometheus ready')
  })

  it('status reports every process alive and healthy', async () => {
    const status = await sandboxStatus(stateDir)
    expect(status.running).toBe(true)
    expect(status.processes.map((p) => [p.name, p.alive, p.healthy, p.detail])).toEqual([
      ['nats-1', true, true, 'ready'],
      ['prometheus', true, true, 'ready'],
      ['alertmanager', true, true, 'ready'],
    ])
  })

  it('prometheus scrapes itself and alertmanager, sends alerts there and loads rules from the state dir', async () => {
    const response = await fetch(`${state.prometheusUrl}/api/v1/status/config`)
    const yaml = ((await response.json()) as {data: {yaml: string}}).data.yaml
    expect(yaml).toContain('scrape_interval: 5s')
    expect(yaml).toContain(`- ${state.alertmanagerUrl?.replace('http://', '')}`)
    expect(yaml).toContain(join(stateDir, 'prometheus', 'rules', '*.yml'))
  })

  it('up again reports the running sandbox without starting duplicates', async () => {
    const again = await sandboxUp({stateDir})
    expect(again.alreadyRunning).toBe(true)
    expect(again.state.processes.map((p) => p.pid)).toEqual(state.processes.map((p) => p.pid))
  })

  it('seed creates the streams, publishes domain events and leaves one projection behind', async () => {
    firstSeed = await seedSandbox(state.natsServers)
    expect(firstSeed.streams).toEqual(['EVENTS', 'CIM_OPS'])
    expect(firstSeed.published).toBeGreaterThanOrEqual(300)
    expect(firstSeed.published).toBeLessThanOrEqual(600)
    expect(firstSeed.duplicates).toBe(0)

    const byName = Object.fromEntries(firstSeed.consumers.map((c) => [c.name, c]))
    for (const domain of ['graph', 'workflow', 'agent', 'identity', 'document']) {
      expect(byName[`${domain}-projection`]).toEqual({name: `${domain}-projection`, stream: 'EVENTS', pending: 0, ackPending: 0})
    }
    expect(byName['workflow-analytics']?.ackPending).toBe(12)
    expect(byName['workflow-analytics']?.pending).toBeGreaterThan(0)

    await withJetStream(state.natsServers, async (jsm) => {
      const events = await jsm.streams.info('EVENTS', {subjects_filter: '>'})
      expect(events.state.messages).toBe(firstSeed.published)
      expect(events.config.num_replicas).toBe(1)
      expect(events.config.allow_direct).toBe(true)
      const subjects = Object.keys(events.state.subjects ?? {})
      expect(new Set(subjects.map((s) => s.split('.')[1]))).toEqual(new Set(['graph', 'workflow', 'agent', 'identity', 'document']))
      expect(subjects.filter((s) => !/^cim\.[a-z]+\.[a-z]+\.[0-9a-f-]{36}\.[A-Za-z]+$/.test(s))).toEqual([])
      expect((await jsm.streams.info('CIM_OPS')).config.subjects).toEqual(['cim.ops.>'])

      const first = await jsm.streams.getMessage('EVENTS', {seq: 1})
      const body = first?.json<Record<string, unknown>>()
      expect(first?.header.get('Nats-Msg-Id')).toBe(body?.id)
      expect(Object.keys(body ?? {})).toEqual(
        expect.arrayContaining(['id', 'type', 'domain', 'aggregateType', 'aggregateId', 'occurredAt', 'correlationId', 'data']),
      )
      expect(first?.subject).toBe(`cim.${body?.domain}.${body?.aggregateType}.${body?.aggregateId}.${body?.type}`)

      const lagging = await jsm.consumers.info('EVENTS', 'workflow-analytics')
      laggingPosition = {delivered: lagging.delivered.stream_seq, ackFloor: lagging.ack_floor.stream_seq}
      expect(lagging.config.filter_subject).toBe('cim.workflow.>')
      expect(lagging.num_ack_pending).toBe(12)
      expect(lagging.ack_floor.stream_seq).toBeGreaterThan(0)
      expect(lagging.delivered.stream_seq).toBeGreaterThan(lagging.ack_floor.stream_seq)
      // The oldest unacknowledged workflow event happened well before now.
      const oldestUnacked = await jsm.direct.getMessage('EVENTS', {seq: lagging.ack_floor.stream_seq + 1, next_by_subj: 'cim.workflow.>'})
      const occurredAt = Date.parse(oldestUnacked?.json<{occurredAt: string}>().occurredAt ?? '')
      expect(Date.now() - occurredAt).toBeGreaterThan(10 * 60 * 1000)
    })
  })

  it('seed again is idempotent', async () => {
    const again = await seedSandbox(state.natsServers)
    expect(again.published).toBe(0)
    expect(again.duplicates).toBe(firstSeed.published)
    expect(again.consumers.map((c) => [c.name, c.ackPending])).toEqual(firstSeed.consumers.map((c) => [c.name, c.ackPending]))
    await withJetStream(state.natsServers, async (jsm) => {
      expect((await jsm.streams.info('EVENTS')).state.messages).toBe(firstSeed.published)
      // Positions, not num_pending: nats-server 2.9.10 miscounts num_pending for this filter (see seed.ts).
      const lagging = await jsm.consumers.info('EVENTS', 'workflow-analytics')
      expect({delivered: lagging.delivered.stream_seq, ackFloor: lagging.ack_floor.stream_seq}).toEqual(laggingPosition)
    })
  })

  it('stopProcess stops prometheus and status shows it down', async () => {
    const prometheus = state.processes.find((p) => p.name === 'prometheus')!
    await stopProcess(state, 'prometheus')
    // Not a bare kill(pid, 0): a killed child may linger as a zombie until init reaps it.
    expect(isProcessAlive(prometheus)).toBe(false)
    const status = await sandboxStatus(stateDir)
    expect(status.processes.find((p) => p.name === 'prometheus')).toMatchObject({alive: false, healthy: false, detail: 'not running'})
    expect(status.running).toBe(true)
    expect(status.processes.filter((p) => p.healthy).map((p) => p.name)).toEqual(['nats-1', 'alertmanager'])
  })

  it('restartProcess brings it back on the same port', async () => {
    const before = {...state.processes.find((p) => p.name === 'prometheus')}
    await restartProcess(state, 'prometheus')
    const after = state.processes.find((p) => p.name === 'prometheus')
    expect(after?.pid).not.toBe(before.pid)
    expect(after?.port).toBe(before.port)
    const status = await sandboxStatus(stateDir)
    expect(status.processes.find((p) => p.name === 'prometheus')).toMatchObject({alive: true, healthy: true, pid: after?.pid})
  })

  it('down stops everything and removes the state dir; down again is a no-op', async () => {
    const {stopped} = await sandboxDown(stateDir)
    expect(stopped.sort()).toEqual(['alertmanager', 'nats-1', 'prometheus'])
    for (const proc of state.processes) expect(isProcessAlive(proc)).toBe(false)
    await expect(stat(stateDir)).rejects.toMatchObject({code: 'ENOENT'})
    expect(await sandboxStatus(stateDir)).toEqual({running: false, processes: []})
    expect(await sandboxDown(stateDir)).toEqual({stopped: []})
  })
})

describe('sandbox edge cases', () => {
  it('up starts fresh when the recorded sandbox is no longer running', async () => {
    const sandbox = await startTestSandbox({components: ['nats']})
    try {
      await stopProcess(sandbox.state, 'nats-1', 'SIGKILL')
      const again = await sandboxUp({stateDir: sandbox.stateDir, components: ['nats']})
      expect(again.alreadyRunning).toBe(false)
      expect(again.state.processes[0]?.pid).not.toBe(sandbox.state.processes[0]?.pid)
      expect((await sandboxStatus(sandbox.stateDir)).processes[0]?.healthy).toBe(true)
    } finally {
      await sandbox.stop()
    }
  })

  it('jetstream: false starts a server without JetStream, which seed reports clearly', async () => {
    const sandbox = await startTestSandbox({components: ['nats'], jetstream: false})
    try {
      expect(sandbox.state.jetstream).toBe(false)
      expect((await sandboxStatus(sandbox.stateDir)).processes[0]?.healthy).toBe(true)
      await expect(seedSandbox(sandbox.state.natsServers)).rejects.toThrow(/jetstream/i)
    } finally {
      await sandbox.stop()
    }
  })

  describe('a server that does not become ready', () => {
    let binDir: string
    beforeAll(async () => {
      binDir = await mkdtemp(join(tmpdir(), 'cimops-fake-bin-'))
    })
    afterAll(async () => {
      delete process.env.CIMOPS_PROMETHEUS_BIN
      await rm(binDir, {recursive: true, force: true})
    })

    async function useFakePrometheus(script: string): Promise<void> {
      const file = join(binDir, 'prometheus')
      await writeFile(file, `#!/bin/sh\n${script}\n`)
      await chmod(file, 0o755)
      process.env.CIMOPS_PROMETHEUS_BIN = file
    }

    /** Runs a failing `up` of nats + the fake prometheus; returns its error and the nats port it had started. */
    async function upExpectingFailure(readyTimeoutMs: number): Promise<{error: OperationError; natsPort: number}> {
      const stateDir = await mkdtemp(join(tmpdir(), 'cimops-sandbox-test-'))
      const lines: string[] = []
      try {
        const error: unknown = await sandboxUp({
          stateDir,
          components: ['nats', 'prometheus'],
          readyTimeoutMs,
          log: (line) => lines.push(line),
        }).then(
          () => undefined,
          (rejection: unknown) => rejection,
        )
        expect(error).toBeInstanceOf(OperationError)
        expect(await readSandboxState(stateDir)).toBeUndefined()
        const natsPort = Number(/started nats-1 on nats:\/\/127\.0\.0\.1:(\d+)/.exec(lines.join('\n'))?.[1])
        expect(natsPort).toBeGreaterThan(0)
        return {error: error as OperationError, natsPort}
      } finally {
        await rm(stateDir, {recursive: true, force: true})
      }
    }

    it('one that exits: the error names it, its address and its log, and the rest is stopped', async () => {
      await useFakePrometheus('echo "fatal: cannot open the TSDB" >&2; exit 1')
      const {error, natsPort} = await upExpectingFailure(10_000)
      expect(error.what).toBe('sandbox prometheus did not start')
      expect(error.why).toMatch(/^exited at http:\/\/127\.0\.0\.1:\d+; last log lines: fatal: cannot open the TSDB$/)
      expect(error.system).toBe('prometheus')
      expect(await portAccepts(natsPort)).toBe(false)
    })

    it('one that hangs: it fails after readyTimeoutMs and its whole process group is killed', async () => {
      const childPidFile = join(binDir, 'child.pid')
      // A child in the same process group proves the group is signalled, not just the leader.
      await useFakePrometheus(`echo booting; sleep 30 & echo $! > ${childPidFile}; wait`)
      const started = Date.now()
      const {error, natsPort} = await upExpectingFailure(1500)
      expect(Date.now() - started).toBeLessThan(8000)
      expect(error.why).toMatch(/^not ready after [\d.]+s \(ECONNREFUSED\) at http:\/\/127\.0\.0\.1:\d+; last log lines: booting$/)
      const childPid = Number(await readFile(childPidFile, 'utf8'))
      // Signalled with its group; gone once its new parent has reaped it.
      await vi.waitFor(() => expect(pidExists(childPid)).toBe(false), {timeout: 3000})
      expect(await portAccepts(natsPort)).toBe(false)
    })
  })
})

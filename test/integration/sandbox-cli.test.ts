import {chmod, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {findServerBinary, serverBinaryVersion, serverSetFrom} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, runCli, startCli} from '../helpers/cli.js'

/** The sandbox as a user drives it: `cimops sandbox up|status|seed|down` in an isolated home. */
describe('cimops sandbox commands', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  beforeAll(async () => {
    home = await isolatedHome()
  })
  afterAll(async () => {
    await runCli(['sandbox', 'down'], home.env)
    await home.cleanup()
  })

  it('starts a 3-node cluster, reports three healthy NATS nodes and selects the sandbox context', async () => {
    const up = await runCli(['sandbox', 'up', '--cluster', '3', '--json'], home.env)
    expect(up.code, up.stderr).toBe(0)
    expect(JSON.parse(up.stdout)).toMatchObject({alreadyRunning: false, cluster: 3, context: 'sandbox'})

    const status = await runCli(['sandbox', 'status', '--json'], home.env)
    expect(status.code).toBe(0)
    const report = JSON.parse(status.stdout) as {healthy: boolean; processes: Array<{component: string; healthy: boolean; peers?: number}>}
    const nats = report.processes.filter((p) => p.component === 'nats')
    expect(nats).toHaveLength(3)
    expect(nats.every((p) => p.healthy && p.peers === 2)).toBe(true)
    // The event monitor runs too, on a loopback port of its own, waiting for the stream until seeded.
    expect(report.processes.find((p) => p.component === 'monitor')).toMatchObject({healthy: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)})
    expect(report.healthy).toBe(true)
    // It says which servers run: the chosen set, and the versions the binaries themselves report.
    const expected = {set: serverSetFrom(), nats: await serverBinaryVersion(findServerBinary('nats'))}
    expect(expected.nats).toMatch(/^\d+\.\d+\.\d+/)
    expect(JSON.parse(status.stdout)).toMatchObject({servers: expected.set, versions: {nats: expected.nats}})
    expect(nats.every((p) => (p as {version?: string}).version === expected.nats)).toBe(true)
    const text = await runCli(['sandbox', 'status'], home.env)
    expect(text.stdout).toContain(`Servers: ${expected.set} (nats-server ${expected.nats}, prometheus `)

    const context = await runCli(['context', 'show', '--json'], home.env)
    expect(JSON.parse(context.stdout)).toMatchObject({name: 'sandbox', sources: {nats: 'context', prometheus: 'context'}})
  }, 90_000) // a loaded 2.10 cluster may take up to a minute to place its first replicated stream (sandbox.ts)

  it('does not start duplicates, and refuses a different shape while one runs', async () => {
    const again = await runCli(['sandbox', 'up', '--cluster', '3', '--json'], home.env)
    expect(JSON.parse(again.stdout)).toMatchObject({alreadyRunning: true})
    const single = await runCli(['sandbox', 'up'], home.env)
    expect(single.code).toBe(64)
    expect(single.stderr).toContain('3-node sandbox is already running')
  })

  it('seeds through the sandbox context and health-check sees NATS', async () => {
    const seed = await runCli(['sandbox', 'seed', '--json'], home.env)
    expect(seed.code, seed.stderr).toBe(0)
    expect(JSON.parse(seed.stdout).published).toBeGreaterThan(100)
    const health = await runCli(['health-check', '--json'], home.env)
    const nats = (JSON.parse(health.stdout) as {checks: Array<{name: string; status: string}>}).checks.find((c) => c.name === 'nats')
    expect(nats?.status).toBe('OK')
  })

  it('stops everything; a second down is a no-op and status then exits 3', async () => {
    const down = await runCli(['sandbox', 'down', '--json'], home.env)
    expect(JSON.parse(down.stdout).stopped).toHaveLength(6) // 3 NATS nodes, Prometheus, Alertmanager, the event monitor
    const again = await runCli(['sandbox', 'down'], home.env)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('No sandbox running')
    const status = await runCli(['sandbox', 'status'], home.env)
    expect(status.code).toBe(3)
  })
})

describe('Ctrl-C during sandbox up', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let env: Record<string, string>
  beforeAll(async () => {
    home = await isolatedHome()
    // A Prometheus that never becomes ready holds the start in its wait, so the interrupt lands there. No exec: the
    // sandbox knows its process by the config file on its command line.
    const neverReady = join(home.dir, 'prometheus')
    await writeFile(neverReady, '#!/bin/sh\nsleep 120\n')
    await chmod(neverReady, 0o755)
    env = {...home.env, CIMOPS_PROMETHEUS_BIN: neverReady}
  })
  afterAll(async () => {
    await runCli(['sandbox', 'down'], env)
    await home.cleanup()
  })

  it('stops every server it had started and leaves no sandbox: exit 130, status then exits 3', async () => {
    const stateFile = join(home.env.XDG_DATA_HOME, 'cimops', 'sandbox', 'state.json')
    const child = startCli(['sandbox', 'up', '--no-monitor'], env)
    const result = finished(child)
    // state.json is written once every server is started, before the wait for them to be ready.
    let pids: number[] = []
    for (const deadline = Date.now() + 20_000; pids.length === 0 && Date.now() < deadline; await sleep(50)) {
      const state = await readFile(stateFile, 'utf8').catch(() => undefined)
      if (state) pids = (JSON.parse(state) as {processes: Array<{pid: number}>}).processes.map((proc) => proc.pid)
    }
    expect(pids).toHaveLength(3)
    child.kill('SIGINT')
    const interrupted = await result
    expect(interrupted.code, interrupted.stderr).toBe(130)
    expect(interrupted.stderr).toMatch(/^cimops: sandbox up was interrupted: stopped by signal \(the servers it had started are stopped; their logs are in .+\)$/m)
    expect(interrupted.stdout).not.toContain('selected')
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    })
    expect(alive).toEqual([])
    expect((await runCli(['sandbox', 'status'], env)).code).toBe(3)
  }, 60_000)
})

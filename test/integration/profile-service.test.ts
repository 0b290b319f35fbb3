/**
 * `cimops profile-service` against real child processes: one that allocates and keeps memory (growing), one that
 * frees most of what it allocates but keeps a part (leaking), one that does nothing (stable), one that exits during
 * the profile (partial), and Ctrl-C (partial, 130). Short windows (3s every 200ms) keep each under ~5s.
 * Run `npm run build` first.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {finished, isolatedHome, ROOT, runCli, startCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

interface ProfileJson {
  target: {pid: number; name: string; foundBy: string}
  verdict: 'stable' | 'growing' | 'leaking' | 'unknown'
  status: string
  growth: {bytesPerHour: number; r2: number; confidence: number} | null
  samples: Array<{at: string; rssBytes: number; cpuPercent: number; fds: number | null; nats?: {pendingBytes: number; closedReason?: string} | null}>
  partial: boolean
  reason?: string
  notes: string[]
}

const MiB = 1024 * 1024
const WINDOW = ['--duration', '3s', '--interval', '200ms']

const children: ChildProcess[] = []
let home: Awaited<ReturnType<typeof isolatedHome>>

beforeAll(async () => {
  home = await isolatedHome()
})
afterAll(async () => {
  await home.cleanup()
})
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** A node process running `body` once it has said it is ready (started up: its own start is no growth). */
async function child(body: string, {title, args = [], env = {}, ready = "console.log('ready');"}: {title?: string; args?: string[]; env?: Record<string, string>; ready?: string} = {}): Promise<ChildProcess> {
  const script = `${title ? `process.title = ${JSON.stringify(title)};` : ''} ${ready} ${body}`
  // In the repository, so that a module script finds its packages.
  const proc = spawn(process.execPath, [...args, '-e', script], {cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], env: {...process.env, ...env}})
  children.push(proc)
  await new Promise((resolve) => proc.stdout!.once('data', resolve))
  return proc
}

async function profile(pid: number, ...more: string[]): Promise<{code: number | null; report: ProfileJson; stderr: string}> {
  const result = await runCli(['profile-service', '--pid', String(pid), ...WINDOW, '--json', ...more], home.env)
  return {code: result.code, report: JSON.parse(result.stdout) as ProfileJson, stderr: result.stderr}
}

describe('cimops profile-service', () => {
  it('growing: a process that keeps 2 MiB every 100ms, with its rate per hour; exit 1', async () => {
    const proc = await child('const kept = []; setInterval(() => kept.push(Buffer.alloc(2 * 1024 * 1024, 1)), 100)')
    const {code, report} = await profile(proc.pid!)
    expect(report.verdict, JSON.stringify(report.growth)).toBe('growing')
    expect(code).toBe(1)
    expect(report.samples.length).toBeGreaterThanOrEqual(14)
    expect(report.samples.at(-1)!.rssBytes - report.samples[0].rssBytes).toBeGreaterThan(30 * MiB)
    // 20 MiB/s is about 70 GiB/h; a loaded machine runs the timer late, so only the order of magnitude.
    expect(report.growth!.bytesPerHour).toBeGreaterThan(20 * 1024 * MiB)
    expect(report.growth!.r2).toBeGreaterThan(0.9)
    expect(report.partial).toBe(false)
  })

  it('leaking: what it frees every 600ms never brings it back to where it was; exit 2', async () => {
    // A fixed mmap threshold makes glibc give the freed buffers back to the kernel, so the collections show in RSS.
    const body = 'let kept = [], junk = []; setInterval(() => { kept.push(Buffer.alloc(2 * 1024 * 1024, 1)); junk.push(Buffer.alloc(2 * 1024 * 1024, 1)) }, 100); setInterval(() => { junk = []; gc() }, 600)'
    const proc = await child(body, {args: ['--expose-gc'], env: {MALLOC_MMAP_THRESHOLD_: '131072'}})
    const {code, report} = await profile(proc.pid!)
    expect(report.verdict, report.samples.map((s) => Math.round(s.rssBytes / MiB)).join(' ')).toBe('leaking')
    expect(code).toBe(2)
  })

  it('stable: a process that allocates nothing, with its CPU and descriptors; exit 0', async () => {
    const proc = await child('setInterval(() => {}, 100)')
    const {code, report} = await profile(proc.pid!)
    expect(report.verdict, report.samples.map((s) => s.rssBytes).join(' ')).toBe('stable')
    expect(code).toBe(0)
    expect(report.target).toMatchObject({pid: proc.pid, name: 'node', foundBy: 'pid'})
    for (const sample of report.samples) {
      expect(sample.fds).toBeGreaterThanOrEqual(3)
      expect(sample.cpuPercent).toBeGreaterThanOrEqual(0)
      expect(sample.cpuPercent).toBeLessThan(50)
    }
  })

  it('a process that exits mid-profile: the samples before, partial, and why', async () => {
    const proc = await child('setInterval(() => {}, 100)')
    const started = Date.now()
    const cli = startCli(['profile-service', '--pid', String(proc.pid), ...WINDOW, '--json'], home.env)
    const done = finished(cli)
    // Sampling has begun (the first progress line); a few samples later the process dies.
    await new Promise((resolve) => cli.stderr!.once('data', resolve))
    await new Promise((resolve) => setTimeout(resolve, 700))
    proc.kill('SIGKILL')
    const result = await done
    const report = JSON.parse(result.stdout) as ProfileJson
    expect(Date.now() - started).toBeLessThan(3000 + 5000)
    expect(report.partial).toBe(true)
    expect(report.reason).toMatch(new RegExp(`^process ${proc.pid} exited after \\d`))
    expect(report.samples.length).toBeGreaterThanOrEqual(3)
    expect(report.samples.length).toBeLessThan(14)

    const text = await runCli(['profile-service', '--pid', String(proc.pid), ...WINDOW], home.env)
    expect(text.code).toBe(2)
    expect(text.stderr).toBe(`cimops: no process ${proc.pid}: /proc/${proc.pid} does not exist (it is not running, or runs in another PID namespace, such as a container's)\n`)
  })

  it('Ctrl-C: the partial report, exit 130', async () => {
    const proc = await child('setInterval(() => {}, 100)')
    const cli = startCli(['profile-service', '--pid', String(proc.pid), '--duration', '60s', '--interval', '200ms'], home.env)
    const done = finished(cli)
    // The first progress line: sampling has begun.
    await new Promise((resolve) => cli.stderr!.once('data', resolve))
    await new Promise((resolve) => setTimeout(resolve, 1200))
    cli.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(result.stdout).toMatch(/^Process \d+ node: \d+ samples over/)
    expect(result.stdout).toMatch(/^RSS\s/m)
    expect(result.stdout).toMatch(/^PARTIAL: interrupted after [\d.]+s; the verdict covers \d+ samples only$/m)
  })

  it('--service: the one process of that name; several are listed, exit 64', async () => {
    const title = `cimops-pf-${process.pid}`.slice(0, 15)
    const one = await child('setInterval(() => {}, 100)', {title})
    const found = await runCli(['profile-service', '--service', title, '--duration', '400ms', '--interval', '200ms', '--json'], home.env)
    expect((JSON.parse(found.stdout) as ProfileJson).target).toMatchObject({pid: one.pid, name: title, foundBy: 'name'})
    expect(found.code).toBe(3) // 3 samples: too few for a verdict

    const two = await child('setInterval(() => {}, 100)', {title})
    const several = await runCli(['profile-service', '--service', title], home.env)
    expect(several.code).toBe(64)
    expect(several.stderr).toMatch(new RegExp(`^cimops: 2 processes are named "${title}": .*\\b${one.pid}\\b.*\\b${two.pid}\\b|^cimops: 2 processes are named "${title}": .*\\b${two.pid}\\b.*\\b${one.pid}\\b`))
  })
})

describe('cimops profile-service --nats-client', () => {
  const sandbox = useSandbox({components: ['nats']})

  it('the local process of a NATS connection, with the bytes pending for it; its close is noted with the reason', async () => {
    const {natsServers, processes} = sandbox().state
    const monitorUrl = processes.find((p) => p.monitorUrl)!.monitorUrl!
    const name = `cim-profiled-${process.pid}`
    const body = `const nc = await connect({servers: ${JSON.stringify(natsServers)}, name: ${JSON.stringify(name)}}); await nc.flush(); console.log('ready'); setTimeout(() => nc.close(), 1500); setInterval(() => {}, 100)`
    const proc = await child(`import {connect} from '@nats-io/transport-node'; ${body}`, {args: ['--input-type=module'], ready: ''})
    const result = await runCli(['profile-service', '--nats-client', name, '--nats-monitor', monitorUrl, '--duration', '3s', '--interval', '300ms', '--json'], home.env)
    const report = JSON.parse(result.stdout) as ProfileJson & {target: {natsClient: {name: string; cid: number}}}
    expect(report.target).toMatchObject({pid: proc.pid, foundBy: 'nats-client', natsClient: {name}})
    expect(report.samples[0].nats).toEqual({pendingBytes: expect.any(Number)})
    // Closed by the client after 1.5s: the server remembers it, and why.
    expect(report.samples.at(-1)!.nats).toMatchObject({closedReason: 'Client Closed'})
    expect(report.notes).toContain(`NATS connection ${report.target.natsClient.cid} closed: Client Closed`)

    const none = await runCli(['profile-service', '--nats-client', 'cim-nobody', '--nats-monitor', monitorUrl], home.env)
    expect(none.code).toBe(2)
    expect(none.stderr).toBe(`cimops: no NATS client "cim-nobody": no open connection of that name at ${monitorUrl} (the name is the one the client gives when it connects)\n`)
  })
})

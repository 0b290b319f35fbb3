import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {FailoverDrillResult} from '../../src/lib/dr/drill.js'
import {finished, isolatedHome, okJson, runCli, startCli} from '../helpers/cli.js'
import {promotesInPlace, withJsm} from '../helpers/sites.js'

interface HealthJson {
  checks: Array<{name: string; component: string; status: string}>
}

const streamNames = (servers: string[]) => withJsm(servers, async (jsm) => (await jsm.streams.list().next()).map((s) => s.config.name).sort())
/** Messages stored on the drill's marker subjects (any domain the marker went into). */
const markersStored = (servers: string[], id: string) =>
  withJsm(servers, async (jsm) => Object.values((await jsm.streams.info('EVENTS', {subjects_filter: `cim.*.marker.${id}.>`})).state.subjects ?? {}).reduce((a, b) => a + b, 0))

describe('drill --failover on a two-site sandbox', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let primary: string[]
  let dr: string[]
  const primaryPid = async () => okJson<{processes: Array<{name: string; pid: number}>}>(await runCli(['sandbox', 'status', '--json'], home.env)).processes.find((p) => p.name === 'nats-1')!.pid
  /** Every check's status but the host's and the seed's lagging consumer's, whose lag grows with the clock by design. */
  const health = async () => {
    const result = await runCli(['health-check', '--json'], home.env)
    const checks = (JSON.parse(result.stdout) as HealthJson).checks.filter((c) => c.component !== 'system' && c.name !== 'consumer:workflow-analytics')
    return Object.fromEntries(checks.map((c) => [c.name, c.status]))
  }

  beforeAll(async () => {
    home = await isolatedHome()
    const up = okJson<{natsServers: string[]; drNatsServers: string[]}>(await runCli(['sandbox', 'up', '--sites', '2', '--no-monitor', '--json'], home.env))
    ;({natsServers: primary, drNatsServers: dr} = up)
    const seed = await runCli(['sandbox', 'seed', '--json'], home.env)
    expect(seed.code, seed.stderr).toBe(0)
  })
  afterAll(async () => {
    await runCli(['sandbox', 'down'], home.env)
    await home.cleanup()
  })

  it('refuses flags that make no sense together (64), before touching anything', async () => {
    for (const args of [
      ['--failover', '--stream', 'EVENTS'],
      ['--failover', '--target-context', 'sandbox-dr'],
      ['--markers', '10'],
      ['--dr-context', 'sandbox-dr'],
      ['--failover', '--rate', 'fast'],
      ['--failover', '--dr-context', 'sandbox'],
    ]) {
      const refused = await runCli(['drill', ...args], home.env)
      expect(refused.code, `${args.join(' ')}: ${refused.stderr}`).toBe(64)
    }
  })

  it('passes: RPO and RTO measured, the promotion path the server supports, every acknowledged event there; the sandbox put back', async () => {
    const pidBefore = await primaryPid()
    const healthBefore = await health()
    const originBefore = await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).state.messages)
    const inPlace = await promotesInPlace(dr)

    const result = okJson<FailoverDrillResult>(await runCli(['drill', '--failover', '--json'], home.env))
    console.log(`drill --failover (nats-server ${result.dr.serverVersion}): RPO max ${result.rpo?.maxSeconds}s p50 ${result.rpo?.p50Seconds}s, RTO ${result.rto?.seconds}s, ${result.promotion?.mode}, ${result.durationSeconds}s in all`)
    expect(result, JSON.stringify(result, null, 2)).toMatchObject({passed: true, kind: 'failover', scope: 'failover', markers: {published: 200, copied: 200}, restore: {done: true}})
    expect(result.rpo!.maxSeconds).toBeGreaterThanOrEqual(0)
    expect(result.rpo!.p50Seconds).toBeLessThanOrEqual(result.rpo!.maxSeconds)
    expect(result.rpo!.maxSeconds).toBeLessThan(30)
    expect(result.rto!.seconds).toBeGreaterThan(0)
    expect(result.rto!.seconds).toBeLessThan(30)
    expect(result.promotion).toMatchObject(inPlace ? {mode: 'update', promotedStream: 'EVENTS_DR'} : {mode: 'new-stream', promotedStream: 'EVENTS_DR_PROMOTED'})
    expect(result.writable?.stream).toBe(result.promotion!.promotedStream)
    expect(result.digest).toMatchObject({messages: originBefore + 200, promotedMessages: originBefore + 200})
    expect(result.digest!.promoted).toBe(result.digest!.origin)
    expect(result.needs212.join()).toContain(inPlace ? 'used, the DR site runs' : 'safest path')

    // Put back: a new primary process, the DR site holding only its mirror again, with the origin's count; no marker left.
    const pidAfter = await primaryPid()
    expect(pidAfter).not.toBe(pidBefore)
    expect(() => process.kill(pidAfter, 0)).not.toThrow()
    expect(await streamNames(dr)).toEqual(['EVENTS_DR'])
    const [origin, copy] = await Promise.all([withJsm(primary, (jsm) => jsm.streams.info('EVENTS')), withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))])
    expect(copy.config.mirror?.name).toBe('EVENTS')
    expect(copy.config.subjects ?? []).toEqual([])
    expect(origin.state.messages).toBe(originBefore)
    expect(copy.state.messages).toBe(origin.state.messages)
    expect(await markersStored(primary, result.id)).toBe(0)

    const status = await runCli(['dr', 'status', '--context', 'sandbox', '--context', 'sandbox-dr', '--json'], home.env)
    expect(status.code, status.stdout + status.stderr).toBe(0)
    expect(await health()).toEqual(healthBefore)

    // Recorded at the primary, where morning-check reads the last drill.
    const morning = JSON.parse((await runCli(['morning-check', '--json'], home.env)).stdout) as {drills: {lastSuccessful?: {id: string}}}
    expect(morning.drills.lastSuccessful?.id).toBe(result.id)
  })

  it('--format md is the report for the drill log, and a second drill passes on the restored sandbox', async () => {
    const md = await runCli(['drill', '--failover', '--markers', '20', '--rate', '200/s', '--format', 'md', '--quiet'], home.env)
    expect(md.code, md.stdout + md.stderr).toBe(0)
    expect(md.stdout).toMatch(/^# Failover drill drill-\S+: PASS/)
    expect(md.stdout).toMatch(/\| RPO \| max /)
    expect(md.stdout).toMatch(/\| RTO \| \S+ \(primary killed/)
    expect(md.stdout).toContain('| 2.12+ |')
  })

  it('Ctrl-C once the primary is down still puts the sandbox back before it exits (130)', async () => {
    const pidBefore = await primaryPid()
    const child = startCli(['drill', '--failover', '--markers', '20', '--rate', '200/s'], home.env)
    const done = finished(child)
    let stderr = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the primary was not killed within 30s: ${stderr}`)), 30_000)
      let interrupted = false
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8')
        // Once: a second Ctrl-C leaves at once, by design.
        if (!interrupted && stderr.includes('killing nats-1')) {
          interrupted = true
          clearTimeout(timer)
          child.kill('SIGINT')
          resolve()
        }
      })
    })
    const result = await done
    expect(result.code, result.stderr).toBe(130)
    expect(result.stderr).toContain('putting the sandbox back')
    const pidAfter = await primaryPid()
    expect(pidAfter).not.toBe(pidBefore)
    expect(() => process.kill(pidAfter, 0)).not.toThrow()
    expect(await streamNames(dr)).toEqual(['EVENTS_DR'])
    const [origin, copy] = await Promise.all([withJsm(primary, (jsm) => jsm.streams.info('EVENTS')), withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))])
    expect(copy.config.mirror?.name).toBe('EVENTS')
    expect(copy.state.messages).toBe(origin.state.messages)
    expect(await markersStored(primary, '*')).toBe(0)
  })

  it('through a context added by hand for the same servers, it measures the lag only and stops nothing', async () => {
    const added = await runCli(['context', 'add', 'byhand', '--nats-url', primary.join(',')], home.env)
    expect(added.code, added.stderr).toBe(0)
    const pidBefore = await primaryPid()
    const originBefore = await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).state.messages)

    const result = okJson<FailoverDrillResult>(await runCli(['drill', '--failover', '--context', 'byhand', '--dr-context', 'sandbox-dr', '--markers', '30', '--json'], home.env))
    expect(result).toMatchObject({passed: true, scope: 'lag-only', markers: {published: 30, copied: 30}})
    expect(result.scopeReason).toContain('not byhand and sandbox-dr')
    expect(result.rpo!.maxSeconds).toBeGreaterThanOrEqual(0)
    expect(result.rto).toBeUndefined()
    expect(result.promotion).toBeUndefined()
    expect(result.restore).toBeUndefined()

    // Nothing stopped or promoted; the markers stay, at both sites (deletes are not mirrored).
    expect(await primaryPid()).toBe(pidBefore)
    expect((await withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))).config.mirror?.name).toBe('EVENTS')
    expect(await markersStored(primary, result.id)).toBe(30)
    expect(await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).state.messages)).toBe(originBefore + 30)
  })
})

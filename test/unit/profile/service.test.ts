import {type ChildProcess, spawn} from 'node:child_process'
import {afterEach, describe, expect, it} from 'vitest'

import {NotFoundError, UsageError} from '../../../src/lib/core/errors.js'
import {findTarget, profileProcess} from '../../../src/lib/profile/service.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill()
})

/** A node process known by `title`, once it has set it. */
async function named(title: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `process.title = ${JSON.stringify(title)}; console.log('ready'); setInterval(() => {}, 1000)`], {stdio: ['ignore', 'pipe', 'ignore']})
  children.push(child)
  await new Promise((resolve) => child.stdout!.once('data', resolve))
  return child
}

const signal = new AbortController().signal

describe('findTarget', () => {
  it('a --pid is taken as given, with its name and command line', async () => {
    await expect(findTarget({pid: process.pid}, signal)).resolves.toMatchObject({pid: process.pid, foundBy: 'pid', cmdline: expect.stringContaining(process.execPath)})
  })

  it('a --service name finds the one process of that name', async () => {
    const child = await named(`cimops-one-${process.pid}`)
    await expect(findTarget({service: `cimops-one-${process.pid}`.slice(0, 15)}, signal)).resolves.toMatchObject({pid: child.pid, foundBy: 'name'})
  })

  it('several of one name are a usage error listing them', async () => {
    const title = `cimops-two-${process.pid}`.slice(0, 15)
    const [a, b] = await Promise.all([named(title), named(title)])
    const error = await findTarget({service: title}, signal).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).line).toMatch(new RegExp(`^2 processes are named "${title}": (${a.pid}|${b.pid}) \\(.*\\), (${a.pid}|${b.pid}) .*\\(pick one with --pid\\)$`))
  })

  it('no process of that name is NOT_FOUND', async () => {
    await expect(findTarget({service: 'cimops-nothing-runs-as-this'}, signal)).rejects.toThrow(NotFoundError)
  })
})

describe('profileProcess', () => {
  it('samples on schedule for the duration: memory, CPU, descriptors', async () => {
    const target = await findTarget({pid: process.pid}, signal)
    const seen: number[] = []
    const report = await profileProcess(target, {durationMs: 400, intervalMs: 100, signal, onSample: (_, all) => seen.push(all.length)})
    expect(report.samples).toHaveLength(5)
    expect(seen).toEqual([1, 2, 3, 4, 5])
    expect(report.partial).toBe(false)
    for (const sample of report.samples) {
      expect(sample.rssBytes).toBeGreaterThan(1024 * 1024)
      expect(sample.fds).toBeGreaterThanOrEqual(3)
      expect(sample.cpuPercent).toBeGreaterThanOrEqual(0)
    }
    expect(report.verdict).not.toBe('unknown')
  })

  it('Ctrl-C ends it with what was sampled, partial with the reason', async () => {
    const target = await findTarget({pid: process.pid}, signal)
    const abort = new AbortController()
    const report = await profileProcess(target, {durationMs: 10_000, intervalMs: 100, signal: abort.signal, onSample: (_, all) => all.length === 3 && abort.abort()})
    expect(report.samples).toHaveLength(3)
    expect(report).toMatchObject({partial: true, verdict: 'unknown', status: 'UNKNOWN', reason: expect.stringMatching(/^interrupted after /)})
  })

  it('a process that exits ends it: partial, the samples before, the reason', async () => {
    const child = await named(`cimops-exit-${process.pid}`)
    const target = await findTarget({pid: child.pid!}, signal)
    const report = await profileProcess(target, {durationMs: 10_000, intervalMs: 100, signal, onSample: (_, all) => all.length === 2 && child.kill('SIGKILL')})
    expect(report.samples.length).toBeGreaterThanOrEqual(2)
    expect(report.samples.length).toBeLessThan(10)
    expect(report).toMatchObject({partial: true, reason: expect.stringMatching(new RegExp(`^process ${child.pid} exited after `))})
  })
})

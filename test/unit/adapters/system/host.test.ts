import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {decodeMountField, hostMemory, mountUsage, parseMeminfo, parseMounts} from '../../../../src/lib/adapters/system/host.js'
import {DEFAULTS} from '../../../../src/lib/core/context-types.js'
import {ParseError} from '../../../../src/lib/core/errors.js'
import {systemCheck} from '../../../../src/lib/health/checks/system.js'
import type {CheckContext} from '../../../../src/lib/health/runner.js'

// Captured from a Debian 12 host, shortened.
const MEMINFO = 'MemTotal:       24683748 kB\nMemFree:        22627716 kB\nMemAvailable:   24079952 kB\nBuffers:           55556 kB\nCached:          1311088 kB\nSwapCached:            0 kB\nActive(anon):     123456 kB\nHugePages_Total:       0\n'
const MOUNTS = [
  'proc /proc proc rw,relatime 0 0',
  '/dev/vda / ext4 rw,relatime 0 0',
  'tmpfs /dev/shm tmpfs rw,relatime,size=24683748k 0 0',
  '/dev/sdb1 /srv/nats\\040data xfs rw,relatime 0 0',
  'tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0',
  '',
].join('\n')

describe('parseMeminfo', () => {
  it('reads total and MemAvailable in bytes', () => {
    const memory = parseMeminfo(MEMINFO)
    expect(memory.totalBytes).toBe(24_683_748 * 1024)
    expect(memory.availableBytes).toBe(24_079_952 * 1024)
    expect(memory.usedPercent).toBeCloseTo(((24_683_748 - 24_079_952) / 24_683_748) * 100, 10)
  })

  it('without MemAvailable (kernels before 3.14) counts free memory, buffers and page cache as available', () => {
    const memory = parseMeminfo(MEMINFO.replace(/^MemAvailable:.*\n/m, ''))
    expect(memory.availableBytes).toBe((22_627_716 + 55_556 + 1_311_088) * 1024)
  })

  it('refuses text without MemTotal', () => {
    expect(() => parseMeminfo('MemFree: 1 kB\n')).toThrow(ParseError)
    expect(() => parseMeminfo('')).toThrow(ParseError)
  })
})

describe('parseMounts and decodeMountField', () => {
  it('decodes the octal escapes the kernel writes for space, tab, newline and backslash', () => {
    expect(decodeMountField('/srv/nats\\040data')).toBe('/srv/nats data')
    expect(decodeMountField('/a\\011b\\012c\\134d')).toBe('/a\tb\nc\\d')
    expect(decodeMountField('/plain')).toBe('/plain')
  })

  it('reads device, mount point and type; a mount point mounted twice keeps the later, visible mount', () => {
    expect(parseMounts(MOUNTS)).toEqual([
      {device: 'proc', mount: '/proc', type: 'proc'},
      {device: '/dev/vda', mount: '/', type: 'ext4'},
      {device: '/dev/sdb1', mount: '/srv/nats data', type: 'xfs'},
      {device: 'tmpfs', mount: '/dev/shm', type: 'tmpfs'},
    ])
  })
})

describe.runIf(process.platform === 'linux')('this host, read from /proc and statfs', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'cimops-host-'))
  afterAll(() => rmSync(scratch, {recursive: true, force: true}))

  /** `df -kP <mount>`: size and available, in 1024-byte blocks. */
  function df(mount: string): {blocks: number; available: number} {
    const fields = execFileSync('df', ['-kP', mount], {encoding: 'utf8'}).trim().split('\n')[1].split(/\s+/)
    return {blocks: Number(fields[1]), available: Number(fields[3])}
  }

  it('memory total is MemTotal of /proc/meminfo', async () => {
    const memTotalKib = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1])
    const memory = await hostMemory()
    expect(memory.totalBytes).toBe(memTotalKib * 1024)
    expect(memory.availableBytes).toBeGreaterThan(0)
    expect(memory.availableBytes).toBeLessThanOrEqual(memory.totalBytes)
  })

  it('size and available space of / agree with df', async () => {
    const before = df('/')
    const {filesystems, mountPoints} = await mountUsage(['/'])
    const after = df('/')
    expect(mountPoints).toEqual([])
    expect(filesystems).toHaveLength(1)
    const [root] = filesystems
    expect(root.mount).toBe('/')
    expect(root.sizeBytes).toBe(before.blocks * 1024)
    // The disk is in use meanwhile: available may move between the two df runs, and by a few blocks beyond.
    const slack = 64
    expect(root.availableBytes / 1024).toBeGreaterThanOrEqual(Math.min(before.available, after.available) - slack)
    expect(root.availableBytes / 1024).toBeLessThanOrEqual(Math.max(before.available, after.available) + slack)
    expect(root.freePercent).toBeCloseTo((root.availableBytes / root.sizeBytes) * 100, 10)
  })

  it('a directory that is not a mount point, or a kernel view such as /proc, is not a mounted filesystem', async () => {
    const {filesystems, mountPoints} = await mountUsage([scratch, '/proc', '/'])
    expect(filesystems.map((fs) => fs.mount)).toEqual(['/'])
    expect(mountPoints).toContain('/')
    expect(mountPoints).not.toContain(scratch)
    expect(mountPoints).not.toContain('/proc')
    expect(mountPoints).not.toContain('/sys')
    // Kernel views that do report a size (devtmpfs on /dev, a snap's squashfs) are left out by their type.
    const sized = parseMounts(readFileSync('/proc/self/mounts', 'utf8')).filter((entry) => ['devtmpfs', 'squashfs'].includes(entry.type))
    for (const entry of sized) expect(mountPoints).not.toContain(entry.mount)
  })

  it('the system check reports such a directory UNKNOWN, naming the mounts there are', async () => {
    const context = {ctx: {thresholds: DEFAULTS.thresholds, mounts: ['/', scratch]}} as unknown as CheckContext
    const outcomes = await systemCheck.run(context)
    const disks = (Array.isArray(outcomes) ? outcomes : [outcomes]).filter((outcome) => outcome.name.startsWith('disk:'))
    expect(disks.map((outcome) => outcome.name)).toEqual(['disk:/', `disk:${scratch}`])
    expect(disks[0].status).not.toBe('UNKNOWN')
    expect(disks[1].status).toBe('UNKNOWN')
    expect(disks[1].summary).toMatch(new RegExp(`^${scratch} is not a mounted filesystem \\(mounts: (.+, )?/(, .+)?\\)$`))
  })
})

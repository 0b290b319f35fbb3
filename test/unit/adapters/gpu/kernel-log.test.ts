import {describe, expect, it} from 'vitest'

import {lineTime, parseKernelLog, pciKey, readKernelLog, xidSeverity} from '../../../../src/lib/adapters/gpu/kernel-log.js'
import {allocationFailuresFor, analyseXids} from '../../../../src/lib/gpu/rules.js'
import {haveCaptures, localFixturePath, noteMissingCaptures, readCapture, readLocalFixture} from '../../../fixtures/gpu/captures.js'

noteMissingCaptures('kernel log Xid parser on the real dmesg capture')

describe.skipIf(!haveCaptures)('parseKernelLog on the real dmesg --ctime capture (Dell XE9680, Xid 119)', () => {
  // A skipped describe's body still runs at collection: read the capture only when it is there.
  const text = haveCaptures ? readCapture('dmesg-xid-119-gsp-rpc-timeout-dell-xe9680.log') : ''

  it('finds the five Xid 119 lines on PCI 0000:9b:00, with pid, process, message and local ctime', () => {
    const scan = parseKernelLog(text)
    expect(scan.xids).toHaveLength(5)
    expect(new Set(scan.xids.map((x) => `${x.pciKey} ${x.xid}`))).toEqual(new Set(['0000:9b:00 119']))
    expect(scan.xids[0]).toEqual({
      xid: 119,
      pciKey: '0000:9b:00',
      time: new Date('Feb 23 2025 16:24:18').toISOString(),
      pid: 2024380,
      process: 'nvidia-smi',
      message: 'Timeout after 6s of waiting for RPC response from GPU4 GSP! Expected function 103 (GSP_RM_ALLOC) (0x2081 0x4).',
    })
    expect(scan.xids.map((x) => x.process)).toEqual(['nvidia-smi', 'nvidia-smi', 'nvidia-smi', 'cache_mgr_main', 'gpud'])
    // The RPC history lines and the stack trace are not Xids.
    expect(scan.allocationFailures).toEqual([])
  })

  it('maps the bus to the GPU uuid the driver announced', () => {
    expect(parseKernelLog(text).gpuUuids).toEqual({'0000:9b:00': 'GPU-509665ad-b600-ac93-3616-d754b23d636d'})
  })

  it('classified drain-worthy, deduplicated into one summary of 5 with first and last time', () => {
    const {byBus, counted, older} = analyseXids(parseKernelLog(text).xids, {now: new Date('2025-02-24T00:00:00Z'), windowSeconds: 0})
    expect([counted, older]).toEqual([5, 0])
    expect(byBus.get('0000:9b:00')).toEqual([
      expect.objectContaining({xid: 119, severity: 'drain', description: 'GSP RPC timeout', count: 5, process: 'gpud', pid: 1240590, firstSeen: new Date('Feb 23 2025 16:24:18').toISOString()}),
    ])
  })

  it('outside the window they are counted as older, not as faults', () => {
    const {byBus, older} = analyseXids(parseKernelLog(text).xids, {now: new Date('2025-03-01T00:00:00Z'), windowSeconds: 24 * 3600})
    expect(byBus.size).toBe(0)
    expect(older).toBe(5)
  })

  it('an edited copy with Xid 79 (fallen off the bus) in the old `(0000:9b:00)` form', () => {
    const edited = text.replaceAll('NVRM: Xid (PCI:0000:9b:00): 119, pid=2024380, name=nvidia-smi, Timeout', 'NVRM: Xid (0000:9b:00): 79, pid=2024380, name=nvidia-smi, GPU has fallen off the bus. Timeout')
    const {byBus} = analyseXids(parseKernelLog(edited).xids)
    expect(byBus.get('0000:9b:00')?.map((x) => [x.xid, x.count, x.severity, x.description])).toEqual([
      [79, 3, 'drain', 'GPU has fallen off the bus'],
      [119, 2, 'drain', 'GSP RPC timeout'],
    ])
  })
})

describe('parseKernelLog on a hand-written dmesg --ctime log (Xid 119 with its GSP RPC history)', () => {
  const text = readLocalFixture('dmesg-ctime-xid-119-gsp-rpc-timeout.log')
  const at = (ctime: string) => new Date(ctime).toISOString()

  it('finds the four Xid 119 lines on PCI 0000:9b:00 with pid, process, message and local ctime; history, trace and rate-limit lines are none', () => {
    const scan = parseKernelLog(text)
    expect(scan.xids).toHaveLength(4)
    expect(new Set(scan.xids.map((x) => `${x.pciKey} ${x.xid}`))).toEqual(new Set(['0000:9b:00 119']))
    expect(scan.xids[0]).toEqual({
      xid: 119,
      pciKey: '0000:9b:00',
      time: at('Mar 14 2025 09:14:52'),
      pid: 41022,
      process: 'nvidia-smi',
      message: 'Timeout after 6s of waiting for RPC response from GPU2 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20800a4c 0x4).',
    })
    expect(scan.xids.map((x) => x.process)).toEqual(['nvidia-smi', 'nvidia-smi', 'nv-hostengine', 'python3'])
    expect(scan.allocationFailures).toEqual([])
  })

  it('maps the bus to the GPU uuid the driver announced (the rate-limit line naming "GPU at PCI:" is no announcement)', () => {
    expect(parseKernelLog(text).gpuUuids).toEqual({'0000:9b:00': 'GPU-4f1e2d3c-0000-4b5a-9c8d-000000000000'})
  })

  it('classified drain-worthy, deduplicated into one summary of 4 with first and last time and the last process', () => {
    const {byBus, counted, older} = analyseXids(parseKernelLog(text).xids, {now: new Date('2025-03-15T00:00:00Z'), windowSeconds: 0})
    expect([counted, older]).toEqual([4, 0])
    expect(byBus.get('0000:9b:00')).toEqual([
      {
        xid: 119,
        severity: 'drain',
        description: 'GSP RPC timeout',
        pciKey: '0000:9b:00',
        count: 4,
        process: 'python3',
        pid: 58871,
        firstSeen: at('Mar 14 2025 09:14:52'),
        lastSeen: at('Mar 14 2025 09:16:40'),
        message: 'Timeout after 6s of waiting for RPC response from GPU2 GSP! Expected function 103 (GSP_RM_ALLOC) (0x2081 0x4).',
      },
    ])
  })

  it('outside the window they are counted as older, not as faults', () => {
    const {byBus, older} = analyseXids(parseKernelLog(text).xids, {now: new Date('2025-03-20T00:00:00Z'), windowSeconds: 24 * 3600})
    expect(byBus.size).toBe(0)
    expect(older).toBe(4)
  })

  it('an edited copy with Xid 79 (fallen off the bus) in the old `(0000:9b:00)` form', () => {
    const edited = text.replaceAll('NVRM: Xid (PCI:0000:9b:00): 119, pid=41022, name=nvidia-smi, Timeout', 'NVRM: Xid (0000:9b:00): 79, pid=41022, name=nvidia-smi, GPU has fallen off the bus. Timeout')
    const {byBus} = analyseXids(parseKernelLog(edited).xids)
    expect(byBus.get('0000:9b:00')?.map((x) => [x.xid, x.count, x.severity, x.description])).toEqual([
      [79, 2, 'drain', 'GPU has fallen off the bus'],
      [119, 2, 'drain', 'GSP RPC timeout'],
    ])
  })
})

describe('parseKernelLog on every line format', () => {
  const bootTime = new Date('2026-11-21T02:58:30.000Z')
  const scan = parseKernelLog(readLocalFixture('kern-log-xid-mixed.log'), {bootTime, now: new Date('2026-11-21T04:00:00Z')})

  it('reads Xids from journalctl short-iso, syslog, bare dmesg and dmesg iso lines', () => {
    expect(scan.xids.map((x) => [x.xid, x.pciKey, x.time])).toEqual([
      [31, '0000:18:00', '2026-11-21T03:11:40.000Z'],
      [31, '0000:18:00', '2026-11-21T03:11:41.000Z'],
      [79, '0000:3a:00', '2026-11-21T03:12:05.000Z'],
      [48, '0000:5d:00', new Date('Nov 21 2026 03:12:07').toISOString()],
      [63, '0000:5d:00', '2026-11-21T03:12:03.001Z'],
      [13, '0000:2a:00', '2026-11-21T03:12:09.441Z'],
    ])
  })

  it("pid and name when given ('<unknown>' is none), the message without them", () => {
    expect(scan.xids[2]).toEqual({xid: 79, pciKey: '0000:3a:00', time: '2026-11-21T03:12:05.000Z', message: 'GPU has fallen off the bus.'})
    expect(scan.xids[4]).toMatchObject({pid: 0, process: 'kworker/3:1', message: 'Row Remapper: New row marked for remapping, reboot system to activate.'})
    expect(scan.xids[3].message).toMatch(/^An uncorrectable double bit error/)
  })

  it('bus -> uuid announcements and the allocation failure', () => {
    expect(scan.gpuUuids).toEqual({'0000:18:00': 'GPU-0b7e2c0a-1111-4a5b-8c9d-000000000000', '0000:3a:00': 'GPU-0b7e2c0a-3333-4a5b-8c9d-000000000000'})
    expect(scan.allocationFailures).toEqual([
      {time: '2026-11-21T03:12:06.000Z', message: expect.stringMatching(/^nvCheckOkFailedNoLog: Check failed: Out of memory \[NV_ERR_NO_MEMORY\]/)},
    ])
  })

  it('an allocation failure naming no bus counts for every GPU, one naming a bus only for that GPU, both only inside the window', () => {
    const now = new Date('2026-11-21T04:00:00Z')
    expect(allocationFailuresFor(scan, '0000:18:00', 3600, now)).toBe(1)
    expect(allocationFailuresFor(scan, '0000:18:00', 60, now)).toBe(0)
    expect(allocationFailuresFor(undefined, '0000:18:00', 0, now)).toBe(0)
    const named = parseKernelLog('2026-11-21T03:30:00+0000 gpu-07 kernel: NVRM: osInitNvMapping: PCI:0000:5d:00: Failed to allocate FB memory\n')
    expect(named.allocationFailures).toEqual([{pciKey: '0000:5d:00', time: '2026-11-21T03:30:00.000Z', message: 'osInitNvMapping: PCI:0000:5d:00: Failed to allocate FB memory'}])
    expect([allocationFailuresFor(named, '0000:5d:00', 3600, now), allocationFailuresFor(named, '0000:18:00', 3600, now)]).toEqual([1, 0])
  })

  it('monotonic times without a boot time stay unknown (and are then never dropped by the window)', () => {
    const noBoot = parseKernelLog(readLocalFixture('kern-log-xid-mixed.log'))
    expect(noBoot.xids.find((x) => x.xid === 63)?.time).toBeUndefined()
    const {older, byBus} = analyseXids(noBoot.xids, {windowSeconds: 60, now: new Date('2030-01-01T00:00:00Z')})
    expect(older).toBe(5)
    expect([...byBus.values()].flat().map((x) => x.xid)).toEqual([63])
  })
})

describe('lineTime', () => {
  it.each([
    ['2025-02-23T16:24:18+0000 host kernel: x', '2025-02-23T16:24:18.000Z'],
    ['2025-02-23T16:24:18.123456+01:00 host kernel: x', '2025-02-23T15:24:18.123Z'],
    ['2026-11-22T06:23:46,000000+00:00 NVRM: x', '2026-11-22T06:23:46.000Z'],
    ['[Sun Feb 23 16:24:18 2025] NVRM: x', new Date('Feb 23 2025 16:24:18').toISOString()],
    ['[  100.5] NVRM: x', '2026-01-01T00:01:40.500Z'],
    ['NVRM: no time at all', undefined],
  ])('%s', (line, time) => {
    expect(lineTime(line, {bootTime: new Date('2026-01-01T00:00:00Z')})).toBe(time)
  })

  it('a syslog line from December read in January belongs to the year before', () => {
    expect(lineTime('Dec 31 23:59:00 host kernel: x', {now: new Date('Jan 2 2027 10:00:00')})).toBe(new Date('Dec 31 2026 23:59:00').toISOString())
  })
})

describe('pciKey and xidSeverity', () => {
  it.each([
    ['00000000:9B:00.0', '0000:9b:00'],
    ['PCI:0000:9b:00', '0000:9b:00'],
    ['0000:01:00', '0000:01:00'],
    ['00000001:01:00.0', '0001:01:00'],
    ['9b:00.0', '0000:9b:00'],
    ['GPU-123', undefined],
  ])('%s -> %s', (busId, key) => {
    expect(pciKey(busId)).toBe(key)
  })

  it('application Xids warn, the rest drain; per-context lists override', () => {
    expect([13, 31, 43, 45, 68, 109].map((x) => xidSeverity(x))).toEqual(Array(6).fill('warn'))
    expect([48, 63, 64, 74, 79, 92, 94, 95, 119, 120, 999].map((x) => xidSeverity(x))).toEqual(Array(11).fill('drain'))
    expect(xidSeverity(31, {drain: [31]})).toBe('drain')
    expect(xidSeverity(94, {warn: [94]})).toBe('warn')
    expect(xidSeverity(13, {ignore: [13]})).toBe('ignore')
  })
})

describe('readKernelLog', () => {
  it('reads a file given by CIMOPS_KERNEL_LOG; "none" skips; a missing file says why', async () => {
    const file = localFixturePath('kern-log-xid-mixed.log')
    expect(await readKernelLog({timeoutMs: 1000, env: {CIMOPS_KERNEL_LOG: file}})).toMatchObject({readable: true, source: file, text: expect.stringContaining('Xid')})
    expect(await readKernelLog({timeoutMs: 1000, env: {CIMOPS_KERNEL_LOG: 'none'}})).toEqual({readable: false, source: 'none', reason: 'disabled (CIMOPS_KERNEL_LOG=none)'})
    expect(await readKernelLog({timeoutMs: 1000, file: '/nonexistent/kern.log', env: {}})).toEqual({readable: false, source: '/nonexistent/kern.log', reason: 'ENOENT'})
  })
})

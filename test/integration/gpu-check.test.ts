/**
 * The gpu check end to end through execa: a fake `nvidia-smi` on PATH prints a real capture, a hand-written
 * fixture, or a failure text with its exit code. No GPU is needed.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {gpuCheck} from '../../src/lib/health/checks/gpu.js'
import {failedCheck} from '../../src/lib/core/check/deadline.js'
import type {CheckOutcome} from '../../src/lib/core/check/result.js'
import type {CheckContext} from '../../src/lib/health/runner.js'
import {capturePath, haveCaptures, localFixturePath, noteMissingCaptures} from '../fixtures/gpu/captures.js'
import {type FakeNvidiaSmi, fakeCalls, fakeNvidiaSmi as makeFake} from '../fixtures/gpu/fake-tools.js'
import type {GpuContextSettings} from '../../src/lib/core/context-types.js'

const root = mkdtempSync(join(tmpdir(), 'cimops-gpu-check-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

function fakeNvidiaSmi(fake: FakeNvidiaSmi): string {
  return makeFake(root, fake)
}

/** The query CSV calls only (each run also asks for -q -x, in parallel). */
function calls(dir: string): string[] {
  return fakeCalls(dir).filter((line) => line.startsWith('--query-gpu='))
}

/** The fake first on PATH; the system directories after it give the script its `cat` and `sleep`. */
function useFake(dir: string): void {
  vi.stubEnv('PATH', `${dir}:/usr/bin:/bin`)
}

/** What the runner records for this check: its outcomes, or its thrown error mapped the runner's way. */
async function runGpuCheck(timeoutMs = 5000, gpu?: GpuContextSettings): Promise<CheckOutcome[]> {
  // The gpu check reads only ctx.timeoutMs, ctx.gpu and the signal from its context.
  const context = {ctx: {timeoutMs, gpu}, signal: new AbortController().signal, now: () => new Date()} as unknown as CheckContext
  try {
    const outcome = await gpuCheck.run(context)
    return Array.isArray(outcome) ? outcome : [outcome]
  } catch (error) {
    return [failedCheck(gpuCheck, error)]
  }
}

beforeEach(() => {
  vi.stubEnv('CIMOPS_NVIDIA_SMI', '')
  // This machine's own kernel log is not under test: each test says what the log holds.
  vi.stubEnv('CIMOPS_KERNEL_LOG', 'none')
})
afterEach(() => {
  vi.unstubAllEnvs()
})

describe('gpu check without a GPU tool', () => {
  it('is OK: no GPU on this host', async () => {
    vi.stubEnv('PATH', mkdtempSync(join(root, 'empty-')))
    expect(await runGpuCheck()).toEqual([{name: 'gpu', component: 'gpu', status: 'OK', summary: 'no GPU on this host', metrics: []}])
  })
})

noteMissingCaptures('gpu check on real captures through a fake nvidia-smi')

describe.skipIf(!haveCaptures)('gpu check through a fake nvidia-smi printing real captures', () => {
  it('H100 under load is OK, one result named gpu:0; nvidia-smi was asked for the CSV with its header', async () => {
    const dir = fakeNvidiaSmi({csvFile: capturePath('nvidia-smi-query-gpu-h100-80gb-hbm3-driver590.48.01-load.csv')})
    useFake(dir)
    const [outcome, ...rest] = await runGpuCheck()
    expect(rest).toEqual([])
    expect(outcome).toMatchObject({name: 'gpu:0', component: 'gpu', status: 'OK', summary: 'NVIDIA H100 80GB HBM3: 59°C, 100% busy, 19.4/79.6 GiB, 632/700 W'})
    expect(calls(dir)).toEqual([
      '--query-gpu=index,uuid,name,pci.bus_id,driver_version,temperature.gpu,temperature.gpu.tlimit,utilization.gpu,memory.total,memory.used,power.draw,power.limit,clocks_throttle_reasons.active,ecc.errors.uncorrected.volatile.total,ecc.errors.corrected.volatile.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure,gpu_recovery_action --format=csv',
    ])
    expect(fakeCalls(dir)).toContain('-q -x')
  })

  it('the GeForce RTX 4080 SUPER with [N/A] ECC and remapping is OK', async () => {
    useFake(fakeNvidiaSmi({csvFile: capturePath('nvidia-smi-query-gpu-rtx4080super-driver595.71.05-load.csv')}))
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu:0', status: 'OK', summary: 'NVIDIA GeForce RTX 4080 SUPER: 46°C, 7% busy, 1.4/16.0 GiB, 84/320 W'}])
  })

  it('the edited H100 535 capture carries 14 uncorrected ECC errors: CRITICAL', async () => {
    useFake(fakeNvidiaSmi({csvFile: capturePath('nvidia-smi-query-gpu-h100-driver535.161.07.edited.csv')}))
    const [outcome] = await runGpuCheck()
    expect(outcome.status).toBe('CRITICAL')
    expect(outcome.summary).toContain('14 uncorrected ECC errors since driver load')
  })
})

describe('gpu check through a fake nvidia-smi', () => {
  it('a healthy H100 under load (hand-written, 38 fields) is OK, one result named gpu:0; nvidia-smi was asked for the CSV with its header', async () => {
    const dir = fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-h100-load-wide.csv')})
    useFake(dir)
    const [outcome, ...rest] = await runGpuCheck()
    expect(rest).toEqual([])
    expect(outcome).toMatchObject({name: 'gpu:0', component: 'gpu', status: 'OK', summary: 'NVIDIA H100 80GB HBM3: 61°C, 100% busy, 20.0/79.6 GiB, 640/700 W'})
    expect(calls(dir)).toEqual([
      '--query-gpu=index,uuid,name,pci.bus_id,driver_version,temperature.gpu,temperature.gpu.tlimit,utilization.gpu,memory.total,memory.used,power.draw,power.limit,clocks_throttle_reasons.active,ecc.errors.uncorrected.volatile.total,ecc.errors.corrected.volatile.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure,gpu_recovery_action --format=csv',
    ])
    expect(fakeCalls(dir)).toContain('-q -x')
  })

  it('csv,nounits with [N/A] ECC, remapping and T.Limit (a T4 and a GeForce) is OK on both GPUs', async () => {
    useFake(fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-nounits-t4-rtx4090.csv')}))
    expect(await runGpuCheck()).toMatchObject([
      {name: 'gpu:0', status: 'OK', summary: 'Tesla T4: 27°C, 2% busy, 0.1/15.0 GiB'},
      {name: 'gpu:1', status: 'OK', summary: 'NVIDIA GeForce RTX 4090: 47°C, 8% busy, 1.4/24.0 GiB, 84/450 W'},
    ])
  })

  it('four GPUs give four results: OK, CRITICAL (remap pending, slowdown, 3 °C headroom), CRITICAL (lost), CRITICAL (ECC)', async () => {
    useFake(fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-4x-h100-faults.csv')}))
    const outcomes = await runGpuCheck()
    expect(outcomes.map((o) => [o.name, o.status])).toEqual([
      ['gpu:0', 'OK'],
      ['gpu:1', 'CRITICAL'],
      ['gpu:2', 'CRITICAL'],
      ['gpu:3', 'CRITICAL'],
    ])
    expect(outcomes[1].summary).toBe(
      'NVIDIA H100 80GB HBM3: T.Limit headroom 3°C (≤ 5°C); memory row remapping pending, drain and reset the GPU; clocks slowed: hw_thermal_slowdown; 84°C, 100% busy, 77.4/79.6 GiB, 699/700 W',
    )
    expect(outcomes[2].summary).toMatch(/^NVIDIA H100 80GB HBM3: cannot be read: GPU is lost \(temperature.gpu, /)
    expect(outcomes[3].metrics).toContainEqual({name: 'ecc_uncorrected', value: 3, crit: 1})
  })

  it('an old driver rejecting temperature.gpu.tlimit gets a retry without that field only', async () => {
    const dir = fakeNvidiaSmi({
      body: [
        'case "$*" in',
        `  *temperature.gpu.tlimit*) echo 'Field "temperature.gpu.tlimit" is not a valid field to query.'; echo; exit 2;;`,
        'esac',
      ].join('\n'),
      csvFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv'),
    })
    useFake(dir)
    const outcomes = await runGpuCheck()
    expect(outcomes.map((o) => [o.name, o.status])).toEqual([
      ['gpu:0', 'OK'],
      ['gpu:1', 'CRITICAL'],
    ])
    expect(outcomes[1].summary).toContain('memory pages pending retirement, drain and reboot')
    const [first, second] = calls(dir)
    expect(first).toContain('temperature.gpu.tlimit')
    expect(second).toBe(
      '--query-gpu=index,uuid,name,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,memory.total,memory.used,power.draw,power.limit,clocks_throttle_reasons.active,ecc.errors.uncorrected.volatile.total,ecc.errors.corrected.volatile.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure,gpu_recovery_action --format=csv',
    )
  })

  it('a required field the driver does not know is UNKNOWN after a single run', async () => {
    const dir = fakeNvidiaSmi({stdout: 'Field "clocks_throttle_reasons.active" is not a valid field to query.\n\n', exitCode: 2})
    useFake(dir)
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu', status: 'UNKNOWN', summary: expect.stringContaining('"clocks_throttle_reasons.active"')}])
    expect(calls(dir)).toHaveLength(1)
  })

  it.each([
    [
      'the driver is not loaded (exit 9)',
      {
        stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
        exitCode: 9,
      },
      'nvidia-smi failed: cannot communicate with the NVIDIA driver: it is not loaded or not running (load the kernel module (modprobe nvidia) or reinstall the driver; look for NVRM errors in the kernel log)',
    ],
    ['no devices were found (exit 6)', {stdout: 'No devices were found\n', exitCode: 6}, 'nvidia-smi failed: no NVIDIA GPU was found'],
    [
      'the driver and library versions differ',
      {stdout: 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.161\n', exitCode: 18},
      'nvidia-smi failed: the loaded kernel driver and the NVML library have different versions',
    ],
    [
      'a GPU fell off the bus, even with exit 0 and the others answering',
      {stderr: 'Unable to determine the device handle for GPU3: 0000:04:00.0: Unknown Error\n', stdout: 'index, name\n0, NVIDIA GeForce RTX 3080\n', exitCode: 0},
      'nvidia-smi failed: GPU3: 0000:04:00.0 cannot be reached: Unknown Error (GPU fallen off the bus or lost)',
    ],
  ])('%s is one CRITICAL `gpu` result', async (_, fake, summary) => {
    useFake(fakeNvidiaSmi(fake))
    const outcomes = await runGpuCheck()
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]).toMatchObject({name: 'gpu', component: 'gpu', status: 'CRITICAL'})
    expect(outcomes[0].summary.startsWith(summary)).toBe(true)
  })

  it('insufficient permissions is UNKNOWN', async () => {
    useFake(fakeNvidiaSmi({stderr: 'Unable to determine the device handle for GPU 0000:01:00.0: Insufficient Permissions\n', exitCode: 4}))
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu', status: 'UNKNOWN', summary: expect.stringContaining('insufficient permissions')}])
  })

  it('a hung nvidia-smi is killed at the timeout: CRITICAL', async () => {
    useFake(fakeNvidiaSmi({body: 'exec sleep 30'}))
    const started = performance.now()
    const [outcome] = await runGpuCheck(400)
    expect(outcome).toMatchObject({name: 'gpu', status: 'CRITICAL', summary: 'nvidia-smi at localhost did not answer: timed out after 400ms'})
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('CIMOPS_NVIDIA_SMI points at nvidia-smi outside PATH', async () => {
    const dir = fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv')})
    vi.stubEnv('PATH', '/usr/bin:/bin')
    vi.stubEnv('CIMOPS_NVIDIA_SMI', join(dir, 'nvidia-smi'))
    expect((await runGpuCheck()).map((o) => o.name)).toEqual(['gpu:0', 'gpu:1'])
  })

  it('a CIMOPS_NVIDIA_SMI that does not exist is UNKNOWN, not "no GPU"', async () => {
    vi.stubEnv('CIMOPS_NVIDIA_SMI', join(root, 'nowhere', 'nvidia-smi'))
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu', status: 'UNKNOWN', summary: expect.stringContaining('nvidia-smi is not installed')}])
  })
})

describe('gpu check with -q -x details, the kernel log and the context thresholds', () => {
  it('-q -x adds what the CSV lacks: a recovery action makes a healthy-looking GPU CRITICAL', async () => {
    useFake(fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-4x-h100-faults.csv'), xmlFile: localFixturePath('q-x-2x-h100-faults.xml')}))
    const outcomes = await runGpuCheck()
    expect(outcomes[0]).toMatchObject({name: 'gpu:0', status: 'CRITICAL', details: {recoveryAction: 'Drain and Reset'}})
    expect(outcomes[0].summary).toContain('the driver recommends recovery action "Drain and Reset"')
    expect(outcomes[1].summary).toContain('the driver recommends drain and reset')
  })

  it('a fresh Xid 79 in the kernel log lands on the GPU at that bus; an application Xid only warns', async () => {
    const log = join(root, 'kern-fresh.log')
    const now = new Date().toISOString()
    writeFileSync(
      log,
      [
        `${now} gpu-07 kernel: NVRM: Xid (PCI:0000:18:00): 31, pid=48121, name=python3, Ch 00000008, MMU Fault`,
        `${now} gpu-07 kernel: NVRM: Xid (PCI:0000:3a:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.`,
      ].join('\n'),
    )
    vi.stubEnv('CIMOPS_KERNEL_LOG', log)
    useFake(fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-4x-h100-faults.csv')}))
    const outcomes = await runGpuCheck()
    expect(outcomes[0]).toMatchObject({name: 'gpu:0', status: 'WARNING'})
    expect(outcomes[0].summary).toContain('Xid 31 (GPU memory page fault), an application error')
    expect(outcomes[2].summary).toContain('Xid 79 (GPU has fallen off the bus), drain the node')
  })

  it('memory nearly full and a fresh allocation failure in the kernel log: WARNING; the same failure outside the window: OK', async () => {
    const header = 'index, name, pci.bus_id, memory.total [MiB], memory.used [MiB]'
    const log = join(root, 'kern-alloc.log')
    writeFileSync(log, `${new Date().toISOString()} gpu-07 kernel: NVRM: nvCheckOkFailedNoLog: Check failed: Out of memory [NV_ERR_NO_MEMORY] (0x00000051) returned from _memdescAllocInternal(pMemDesc) @ mem_desc.c:1359\n`)
    vi.stubEnv('CIMOPS_KERNEL_LOG', log)
    useFake(fakeNvidiaSmi({csv: `${header}\n0, NVIDIA H100 80GB HBM3, 00000000:18:00.0, 81559 MiB, 80102 MiB\n`}))
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu:0', status: 'WARNING', summary: expect.stringContaining('memory nearly full (98% used) and 1 allocation failure in the kernel log')}])
    writeFileSync(log, `2025-03-14T09:20:31+0000 gpu-07 kernel: NVRM: nvCheckOkFailedNoLog: Check failed: Out of memory [NV_ERR_NO_MEMORY]\n`)
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu:0', status: 'OK'}])
  })

  it('fewer GPUs than the context expects: a CRITICAL `gpu` result with the count', async () => {
    useFake(fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv')}))
    const outcomes = await runGpuCheck(5000, {expectedGpus: 8})
    expect(outcomes.at(-1)).toMatchObject({name: 'gpu', status: 'CRITICAL', summary: 'expected 8 GPUs, found 2: 6 GPUs missing', metrics: [{name: 'gpus', value: 2, crit: 8}]})
  })

  it('an unreadable kernel log is said, as an OK `gpu` result: Xid errors not checked', async () => {
    vi.stubEnv('CIMOPS_KERNEL_LOG', join(root, 'no-such.log'))
    useFake(fakeNvidiaSmi({csvFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv')}))
    expect((await runGpuCheck()).at(-1)).toMatchObject({name: 'gpu', status: 'OK', summary: 'kernel log not readable: Xid errors not checked (ENOENT)'})
  })
})

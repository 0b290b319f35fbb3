/**
 * The gpu check end to end through execa: a fake `nvidia-smi` on PATH prints a real capture, a hand-written
 * fixture, or a failure text with its exit code. No GPU is needed.
 */
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {gpuCheck} from '../../src/lib/health/checks/gpu.js'
import {type CheckContext, type CheckOutcome, failedCheck} from '../../src/lib/health/runner.js'
import {capturePath, haveCaptures, localFixturePath, noteMissingCaptures} from '../fixtures/gpu/captures.js'

const root = mkdtempSync(join(tmpdir(), 'cimops-gpu-check-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))
let fakes = 0

interface Fake {
  /** File whose content goes to stdout. */
  stdoutFile?: string
  stdout?: string
  stderr?: string
  exitCode?: number
  /** Replaces the default body (shell). */
  body?: string
}

/** Writes an executable `nvidia-smi` into a fresh directory, logging its arguments; returns the directory. */
function fakeNvidiaSmi(fake: Fake): string {
  const dir = join(root, `fake-${++fakes}`)
  mkdirSync(dir)
  const lines = ['#!/bin/sh', `printf '%s\\n' "$*" >> ${quote(join(dir, 'args.log'))}`]
  if (fake.body) lines.push(fake.body)
  if (fake.stdoutFile) lines.push(`cat ${quote(fake.stdoutFile)}`)
  if (fake.stdout) lines.push(`printf '%s' ${quote(fake.stdout)}`)
  if (fake.stderr) lines.push(`printf '%s' ${quote(fake.stderr)} >&2`)
  lines.push(`exit ${fake.exitCode ?? 0}`)
  writeFileSync(join(dir, 'nvidia-smi'), `${lines.join('\n')}\n`)
  chmodSync(join(dir, 'nvidia-smi'), 0o755)
  return dir
}

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

function calls(dir: string): string[] {
  return readFileSync(join(dir, 'args.log'), 'utf8').trim().split('\n')
}

/** The fake first on PATH; the system directories after it give the script its `cat` and `sleep`. */
function useFake(dir: string): void {
  vi.stubEnv('PATH', `${dir}:/usr/bin:/bin`)
}

/** What the runner records for this check: its outcomes, or its thrown error mapped the runner's way. */
async function runGpuCheck(timeoutMs = 5000): Promise<CheckOutcome[]> {
  // The gpu check reads only ctx.timeoutMs and the signal from its context.
  const context = {ctx: {timeoutMs}, signal: new AbortController().signal, now: () => new Date()} as unknown as CheckContext
  try {
    const outcome = await gpuCheck.run(context)
    return Array.isArray(outcome) ? outcome : [outcome]
  } catch (error) {
    return [failedCheck(gpuCheck, error)]
  }
}

beforeEach(() => {
  vi.stubEnv('CIMOPS_NVIDIA_SMI', '')
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
    const dir = fakeNvidiaSmi({stdoutFile: capturePath('nvidia-smi-query-gpu-h100-80gb-hbm3-driver590.48.01-load.csv')})
    useFake(dir)
    const [outcome, ...rest] = await runGpuCheck()
    expect(rest).toEqual([])
    expect(outcome).toMatchObject({name: 'gpu:0', component: 'gpu', status: 'OK', summary: 'NVIDIA H100 80GB HBM3: 59°C, 100% busy, 19.4/79.6 GiB, 632/700 W'})
    expect(calls(dir)).toEqual([
      '--query-gpu=index,uuid,name,pci.bus_id,driver_version,temperature.gpu,temperature.gpu.tlimit,utilization.gpu,memory.total,memory.used,power.draw,power.limit,clocks_throttle_reasons.active,ecc.errors.uncorrected.volatile.total,ecc.errors.corrected.volatile.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure --format=csv',
    ])
  })

  it('the GeForce RTX 4080 SUPER with [N/A] ECC and remapping is OK', async () => {
    useFake(fakeNvidiaSmi({stdoutFile: capturePath('nvidia-smi-query-gpu-rtx4080super-driver595.71.05-load.csv')}))
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu:0', status: 'OK', summary: 'NVIDIA GeForce RTX 4080 SUPER: 46°C, 7% busy, 1.4/16.0 GiB, 84/320 W'}])
  })

  it('the edited H100 535 capture carries 14 uncorrected ECC errors: CRITICAL', async () => {
    useFake(fakeNvidiaSmi({stdoutFile: capturePath('nvidia-smi-query-gpu-h100-driver535.161.07.edited.csv')}))
    const [outcome] = await runGpuCheck()
    expect(outcome.status).toBe('CRITICAL')
    expect(outcome.summary).toContain('14 uncorrected ECC errors since driver load')
  })
})

describe('gpu check through a fake nvidia-smi', () => {
  it('four GPUs give four results: OK, CRITICAL (remap pending, slowdown, 3 °C headroom), CRITICAL (lost), CRITICAL (ECC)', async () => {
    useFake(fakeNvidiaSmi({stdoutFile: localFixturePath('query-gpu-4x-h100-faults.csv')}))
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

  it('an old driver rejecting temperature.gpu.tlimit gets one retry without the optional fields', async () => {
    const dir = fakeNvidiaSmi({
      body: [
        'case "$*" in',
        `  *temperature.gpu.tlimit*) echo 'Field "temperature.gpu.tlimit" is not a valid field to query.'; echo; exit 2;;`,
        'esac',
      ].join('\n'),
      stdoutFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv'),
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
      '--query-gpu=index,uuid,name,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,memory.total,memory.used,power.draw,power.limit,clocks_throttle_reasons.active,ecc.errors.uncorrected.volatile.total,ecc.errors.corrected.volatile.total,retired_pages.pending --format=csv',
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
    const dir = fakeNvidiaSmi({stdoutFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv')})
    vi.stubEnv('PATH', '/usr/bin:/bin')
    vi.stubEnv('CIMOPS_NVIDIA_SMI', join(dir, 'nvidia-smi'))
    expect((await runGpuCheck()).map((o) => o.name)).toEqual(['gpu:0', 'gpu:1'])
  })

  it('a CIMOPS_NVIDIA_SMI that does not exist is UNKNOWN, not "no GPU"', async () => {
    vi.stubEnv('CIMOPS_NVIDIA_SMI', join(root, 'nowhere', 'nvidia-smi'))
    expect(await runGpuCheck()).toMatchObject([{name: 'gpu', status: 'UNKNOWN', summary: expect.stringContaining('nvidia-smi is not installed')}])
  })
})

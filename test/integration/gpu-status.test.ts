/**
 * `cimops gpu status` as a user runs it (the built CLI, `npm run build` first), through a fake nvidia-smi on PATH:
 * a real capture when healthy, every failure mode with its Nagios exit code, --json, --format nagios, expected
 * counts and Xids from a kernel log file.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {GpuStatusReport} from '../../src/lib/gpu/model.js'
import {capturePath, haveCaptures, localFixturePath, noteMissingCaptures, readCapture} from '../fixtures/gpu/captures.js'
import {type FakeNvidiaSmi, fakeNvidiaSmi} from '../fixtures/gpu/fake-tools.js'
import {type CliResult, isolatedHome, runCli} from '../helpers/cli.js'

const root = mkdtempSync(join(tmpdir(), 'cimops-gpu-status-'))
let home: Awaited<ReturnType<typeof isolatedHome>>
beforeAll(async () => {
  home = await isolatedHome()
})
afterAll(async () => {
  await home?.cleanup()
  rmSync(root, {recursive: true, force: true})
})

/** Runs `cimops gpu status ...` with only the fake (and the system's sh/cat/sleep) on PATH, and no kernel log. */
function gpuStatus(fake: FakeNvidiaSmi | undefined, args: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  const path = fake ? `${fakeNvidiaSmi(root, fake)}:/usr/bin:/bin` : '/usr/bin:/bin'
  return runCli(['gpu', 'status', '--node', 'gpu-07', ...args], {...home.env, PATH: path, CIMOPS_NVIDIA_SMI: '', CIMOPS_KERNEL_LOG: 'none', ...env})
}

const DRIVER_GONE = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n"

noteMissingCaptures('gpu status on real captures')

describe.skipIf(!haveCaptures)('gpu status on the real H100 capture', () => {
  const h100 = {csvFile: capturePath('nvidia-smi-query-gpu-h100-80gb-hbm3-driver590.48.01-load.csv'), appsFile: capturePath('nvidia-smi-query-compute-apps-h100-driver590.48.01-load.csv')}

  it('healthy: a table, the verdict, exit 0; --verbose lists processes (from --query-compute-apps when -q -x fails)', async () => {
    const [plain, verbose] = await Promise.all([gpuStatus(h100), gpuStatus(h100, ['--verbose'])])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toMatch(/^GPU\s+NAME\s+BUS ID\s+TEMP\s+UTIL\s+MEMORY\s+POWER\s+STATUS\s+FINDINGS\n\s+0\s+NVIDIA H100 80GB HBM3\s+00000000:00:09\.0\s+59°C \(26 to T\.Limit\)\s+100%\s+19\.4\/79\.6 GiB\s+632\/700 W\s+OK\s+-\n/)
    expect(plain.stdout).toMatch(/\nOK {2}1 GPU OK {2}\(node gpu-07, driver 590\.48\.01, \d\.\d\ds\)\n$/)
    expect(plain.stdout).toContain('note: nvidia-smi -q -x failed')
    expect(verbose.code).toBe(0)
    expect(verbose.stdout).toMatch(/\s+0\s+11345\s+C\s+15\.3 GiB\s+\.\/gpu_burn/)
  })

  it('--json: the check shape plus GPUs, readings and processes; --format nagios: one line with perfdata', async () => {
    const [json, nagios] = await Promise.all([gpuStatus(h100, ['--json', '--verbose']), gpuStatus(h100, ['--format', 'nagios'])])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as GpuStatusReport
    expect(report).toMatchObject({status: 'OK', summary: '1 GPU OK', node: 'gpu-07', tool: 'nvidia-smi', driverVersion: '590.48.01', checks: [{name: 'gpu:0', status: 'OK'}]})
    expect(report.snapshots[0]).toMatchObject({temperatureC: 59, tlimitMarginC: 26, powerDrawW: 631.95, recoveryAction: 'None'})
    expect(report.snapshots[0].processes).toHaveLength(3)
    expect(Object.keys(report).slice(0, 2)).toEqual(['status', 'summary'])
    expect(nagios.stdout.trim()).toBe("OK 1 GPU OK | gpu:0_temperature=59 gpu:0_utilization=100% gpu:0_memory_used=20780679168B gpu:0_power=631.95 gpu:0_ecc_uncorrected=0;;1")
  })

  it('the edited 535 capture with 14 uncorrected ECC errors: CRITICAL, exit 2', async () => {
    const result = await gpuStatus({csvFile: capturePath('nvidia-smi-query-gpu-h100-driver535.161.07.edited.csv')})
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('CRITICAL  1 GPU CRITICAL: GPU 0: 14 uncorrected ECC errors since driver load, drain the node')
  })

  it('Xids from the kernel log: a fresh Xid 79 on its bus is CRITICAL; the real Xid 119 capture is older than the window (a note)', async () => {
    const log = join(root, 'xid79.log')
    writeFileSync(log, `${new Date().toISOString()} gpu-07 kernel: NVRM: Xid (PCI:0000:00:09): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n`)
    const [fresh, old] = await Promise.all([gpuStatus(h100, ['--kernel-log', log]), gpuStatus(h100, [], {CIMOPS_KERNEL_LOG: capturePath('dmesg-xid-119-gsp-rpc-timeout-dell-xe9680.log')})])
    expect(fresh.code).toBe(2)
    expect(fresh.stdout).toContain('Xid 79 (GPU has fallen off the bus), drain the node')
    expect(fresh.stdout).toMatch(/\n\s+0\s+79\s+drain\s+1\s+\d{4}-/)
    expect(old.code).toBe(0)
    expect(old.stdout).toContain('note: 5 Xid events older than 1d not counted (context gpu.xidWindow)')
  })
})

describe('gpu status on the hand-written H100 under load', () => {
  const h100 = {csvFile: localFixturePath('query-gpu-h100-load-wide.csv'), appsFile: localFixturePath('query-compute-apps-h100-3-procs.csv')}

  it('healthy: a table, the verdict, exit 0; --verbose lists processes (from --query-compute-apps when -q -x fails)', async () => {
    const [plain, verbose] = await Promise.all([gpuStatus(h100), gpuStatus(h100, ['--verbose'])])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toMatch(/^GPU\s+NAME\s+BUS ID\s+TEMP\s+UTIL\s+MEMORY\s+POWER\s+STATUS\s+FINDINGS\n\s+0\s+NVIDIA H100 80GB HBM3\s+00000000:00:09\.0\s+61°C \(24 to T\.Limit\)\s+100%\s+20\.0\/79\.6 GiB\s+640\/700 W\s+OK\s+-\n/)
    expect(plain.stdout).toMatch(/\nOK {2}1 GPU OK {2}\(node gpu-07, driver 590\.48\.01, \d\.\d\ds\)\n$/)
    expect(plain.stdout).toContain('note: nvidia-smi -q -x failed')
    expect(verbose.code).toBe(0)
    expect(verbose.stdout).toMatch(/\s+0\s+20211\s+C\s+2\.0 GiB\s+\/opt\/bench\/memhog\n/)
    expect(verbose.stdout).toMatch(/\s+0\s+20240\s+C\s+16\.0 GiB\s+\.\/gpu_burn\n/)
  })

  it('--json: the check shape plus GPUs, readings and processes; --format nagios: one line with perfdata', async () => {
    const [json, nagios] = await Promise.all([gpuStatus(h100, ['--json', '--verbose']), gpuStatus(h100, ['--format', 'nagios'])])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as GpuStatusReport
    expect(report).toMatchObject({status: 'OK', summary: '1 GPU OK', node: 'gpu-07', tool: 'nvidia-smi', driverVersion: '590.48.01', checks: [{name: 'gpu:0', status: 'OK'}]})
    expect(report.snapshots[0]).toMatchObject({temperatureC: 61, tlimitMarginC: 24, powerDrawW: 640.25, recoveryAction: 'None'})
    expect(report.snapshots[0].processes?.map((p) => p.pid)).toEqual([20211, 20212, 20240])
    expect(Object.keys(report).slice(0, 2)).toEqual(['status', 'summary'])
    expect(nagios.code).toBe(0)
    expect(nagios.stdout.trim()).toBe('OK 1 GPU OK | gpu:0_temperature=61 gpu:0_utilization=100% gpu:0_memory_used=21474836480B gpu:0_power=640.25 gpu:0_ecc_uncorrected=0;;1')
  })

  it('Xids from the kernel log: a fresh Xid 79 on its bus is CRITICAL; the dmesg --ctime Xid 119s are older than the window (a note)', async () => {
    const log = join(root, 'xid79-hand.log')
    writeFileSync(log, `${new Date().toISOString()} gpu-07 kernel: NVRM: Xid (PCI:0000:00:09): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n`)
    const [fresh, old] = await Promise.all([
      gpuStatus(h100, ['--kernel-log', log]),
      gpuStatus(h100, [], {CIMOPS_KERNEL_LOG: localFixturePath('dmesg-ctime-xid-119-gsp-rpc-timeout.log')}),
    ])
    expect(fresh.code).toBe(2)
    expect(fresh.stdout).toContain('Xid 79 (GPU has fallen off the bus), drain the node')
    expect(fresh.stdout).toMatch(/\n\s+0\s+79\s+drain\s+1\s+\d{4}-/)
    expect(old.code).toBe(0)
    expect(old.stdout).toContain('note: 4 Xid events older than 1d not counted (context gpu.xidWindow)')
  })
})

describe.concurrent('gpu status through a fake nvidia-smi: each failure mode and its exit code', () => {
  const faults = localFixturePath('query-gpu-4x-h100-faults.csv')
  const header =
    'index, uuid, name, pci.bus_id, driver_version, temperature.gpu, temperature.gpu.tlimit, utilization.gpu [%], memory.total [MiB], memory.used [MiB], power.draw [W], power.limit [W], clocks_throttle_reasons.active, ecc.errors.uncorrected.volatile.total, ecc.errors.corrected.volatile.total, retired_pages.pending, remapped_rows.pending, remapped_rows.failure'

  it.each<[string, number, FakeNvidiaSmi, string[], RegExp]>([
    ['driver not loaded', 2, {stdout: DRIVER_GONE, exitCode: 9}, [], /CRITICAL\s+gpu\s+nvidia-smi failed: cannot communicate with the NVIDIA driver/],
    ['no devices found', 2, {stdout: 'No devices were found\n', exitCode: 6}, [], /nvidia-smi failed: no NVIDIA GPU was found/],
    ['driver/library mismatch', 2, {stdout: 'Failed to initialize NVML: Driver/library version mismatch\n', exitCode: 18}, [], /kernel driver and the NVML library have different versions/],
    ['a GPU fallen off the bus', 2, {stderr: 'Unable to determine the device handle for GPU0000:CB:00.0: Unknown Error\n', exitCode: 15}, [], /GPU0000:CB:00\.0 cannot be reached: Unknown Error \(GPU fallen off the bus or lost\)/],
    ['insufficient permissions (cannot look: UNKNOWN)', 3, {stderr: 'Insufficient Permissions\n', exitCode: 4}, [], /UNKNOWN\s+gpu\s+nvidia-smi failed: not allowed to query the GPUs/],
    ['nvidia-smi hangs (a wedged driver)', 2, {body: 'exec sleep 30'}, ['--timeout', '500ms'], /CRITICAL\s+gpu\s+nvidia-smi at localhost did not answer: timed out after 500ms/],
    ['4 GPUs: remap pending + slowdown, one lost, ECC', 2, {csvFile: faults}, [], /CRITICAL {2}3 of 4 GPUs CRITICAL: GPU 1: T\.Limit headroom 3°C \(≤ 5°C\); memory row remapping pending/],
    ['thermal slowdown only: WARNING', 1, {csv: `${header}\n0, GPU-1, NVIDIA L40S, 00000000:01:00.0, 595.80, 81, 12, 99 %, 46068 MiB, 1000 MiB, 300.00 W, 350.00 W, 0x0000000000000040, 0, 0, [N/A], No, No\n`}, [], /WARNING {2}1 GPU WARNING: GPU 0: clocks slowed: hw_thermal_slowdown/],
    ['fewer GPUs than --expected-gpus', 2, {csvFile: localFixturePath('query-gpu-v100-driver418-no-optional.csv')}, ['--expected-gpus', '4'], /expected 4 GPUs, found 2: 2 GPUs missing/],
  ])('%s: exit %i', async (_, code, fake, args, output) => {
    const result = await gpuStatus(fake, args)
    expect(result.code, result.stderr).toBe(code)
    expect(result.stdout).toMatch(output)
  })

  it('no nvidia-smi: "no GPU on this host", exit 0 — unless GPUs are expected (exit 2)', async () => {
    const [none, expected] = await Promise.all([gpuStatus(undefined), gpuStatus(undefined, ['--expected-gpus', '8', '--json'])])
    expect(none.code).toBe(0)
    expect(none.stdout).toMatch(/OK\s+gpu\s+no GPU on this host/)
    expect(expected.code).toBe(2)
    expect(JSON.parse(expected.stdout)).toMatchObject({status: 'CRITICAL', tool: 'none', summary: 'expected 8 GPUs, found 0: 8 GPUs missing: no GPU tool (nvidia-smi, powermetrics) on this host'})
  })

  it('-q -x details merged by bus id: recovery action, reset status, processes; a bad --node is a usage error', async () => {
    const [result, badNode] = await Promise.all([
      gpuStatus({csvFile: faults, xmlFile: localFixturePath('q-x-2x-h100-faults.xml')}, ['--json', '--verbose']),
      runCli(['gpu', 'status', '--node', 'gpu-07.dc1'], {...home.env, PATH: '/usr/bin:/bin'}),
    ])
    expect(result.code).toBe(2)
    const report = JSON.parse(result.stdout) as GpuStatusReport
    expect(report.snapshots[0]).toMatchObject({recoveryAction: 'Drain and Reset', processes: [{pid: 48121, type: 'C'}]})
    expect(report.snapshots[1]).toMatchObject({drainAndResetRecommended: true, resetRequired: true})
    expect(report.gpus[0].findings.map((f) => f.code)).toContain('recovery-action')
    expect(report.notes).toEqual([])
    expect(badNode.code).toBe(64)
    expect(badNode.stderr).toContain('invalid --node "gpu-07.dc1"')
  })
})

describe.skipIf(!haveCaptures)('the README example input', () => {
  it('is the capture it says it is', () => {
    expect(readCapture('nvidia-smi-query-gpu-h100-80gb-hbm3-driver590.48.01-load.csv')).toContain('NVIDIA H100 80GB HBM3')
  })
})

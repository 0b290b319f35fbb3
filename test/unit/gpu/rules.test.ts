import {describe, expect, it} from 'vitest'
import type {NvidiaGpu} from '../../../src/lib/adapters/gpu/nvidia-smi.js'
import type {PowermetricsSample} from '../../../src/lib/adapters/gpu/powermetrics.js'
import {ConfigFile} from '../../../src/lib/core/config.js'
import {gpuSummary, merge} from '../../../src/lib/gpu/collect.js'
import type {GpuSnapshot, XidSummary} from '../../../src/lib/gpu/model.js'
import {assessGpu, type GpuEvidence, hostFindings, hostOutcome, nvidiaOutcome, powermetricsOutcome, toolFailureOutcome} from '../../../src/lib/gpu/rules.js'
import {DEFAULT_GPU_THRESHOLDS, resolveGpuThresholds} from '../../../src/lib/gpu/thresholds.js'

const GiB = 2 ** 30
const MiB = 2 ** 20

/** The H100 under load, as read from the 590.48.01 capture. */
const H100: NvidiaGpu = {
  index: 0,
  uuid: 'GPU-00000000-0000-0000-0000-000000000000',
  name: 'NVIDIA H100 80GB HBM3',
  busId: '00000000:00:09.0',
  driverVersion: '590.48.01',
  temperatureC: 59,
  tlimitMarginC: 26,
  utilizationPercent: 100,
  memoryTotalBytes: 81559 * MiB,
  memoryUsedBytes: 19818 * MiB,
  powerDrawW: 631.95,
  powerLimitW: 700,
  throttleReasons: [],
  eccUncorrectedVolatile: 0,
  eccCorrectedVolatile: 0,
  remappedRowsPending: false,
  remappedRowsFailure: false,
}

describe('nvidiaOutcome (the rules moved from the health check)', () => {
  it('a healthy GPU is OK, named by index, with readings and metrics', () => {
    expect(nvidiaOutcome(H100)).toEqual({
      name: 'gpu:0',
      component: 'gpu',
      status: 'OK',
      summary: 'NVIDIA H100 80GB HBM3: 59°C, 100% busy, 19.4/79.6 GiB, 632/700 W',
      metrics: [
        {name: 'temperature', value: 59},
        {name: 'utilization', value: 100, unit: '%'},
        {name: 'memory_used', value: 19818 * MiB, unit: 'B'},
        {name: 'power', value: 631.95},
        {name: 'ecc_uncorrected', value: 0, crit: 1},
      ],
      details: {
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        busId: '00000000:00:09.0',
        driverVersion: '590.48.01',
        tlimitMarginC: 26,
        throttleReasons: [],
        eccCorrectedVolatile: 0,
      },
    })
  })

  it.each<[string, Partial<NvidiaGpu>, string]>([
    ['a GPU nvidia-smi cannot read', {failure: {reason: 'GPU is lost', fields: ['temperature.gpu', 'power.draw']}}, 'cannot be read: GPU is lost (temperature.gpu, power.draw)'],
    ['uncorrected ECC errors', {eccUncorrectedVolatile: 2}, '2 uncorrected ECC errors since driver load, drain the node'],
    ['a failed row remap', {remappedRowsFailure: true}, 'a memory row remapping failed, the GPU needs replacing'],
    ['a pending row remap', {remappedRowsPending: true}, 'memory row remapping pending, drain and reset the GPU'],
    ['pages pending retirement', {retiredPagesPending: true}, 'memory pages pending retirement, drain and reboot'],
    ['no T.Limit headroom left', {tlimitMarginC: 0}, 'T.Limit headroom 0°C (≤ 0°C)'],
    ['95 °C without T.Limit', {tlimitMarginC: undefined, temperatureC: 95}, 'hot: 95°C (≥ 95°C)'],
  ])('%s is CRITICAL', (_, change, problem) => {
    const outcome = nvidiaOutcome({...H100, ...change})
    expect(outcome.status).toBe('CRITICAL')
    expect(outcome.summary).toContain(`NVIDIA H100 80GB HBM3: ${problem}; `)
  })

  it.each<[string, Partial<NvidiaGpu>, string]>([
    ['HW thermal slowdown', {throttleReasons: ['hw_thermal_slowdown']}, 'clocks slowed: hw_thermal_slowdown'],
    ['SW thermal slowdown', {throttleReasons: ['sw_thermal_slowdown', 'sw_power_cap']}, 'clocks slowed: sw_thermal_slowdown'],
    ['HW slowdown and power brake', {throttleReasons: ['hw_slowdown', 'hw_power_brake_slowdown']}, 'clocks slowed: hw_slowdown, hw_power_brake_slowdown'],
    ['5 °C T.Limit headroom', {tlimitMarginC: 5}, 'T.Limit headroom 5°C (≤ 5°C)'],
    ['85 °C without T.Limit', {tlimitMarginC: undefined, temperatureC: 85}, 'hot: 85°C (≥ 85°C)'],
  ])('%s is WARNING', (_, change, problem) => {
    const outcome = nvidiaOutcome({...H100, ...change})
    expect(outcome.status).toBe('WARNING')
    expect(outcome.summary).toContain(problem)
  })

  it.each<[string, Partial<NvidiaGpu>]>([
    ['idle and power-capped clocks', {throttleReasons: ['gpu_idle', 'sw_power_cap', 'applications_clocks_setting']}],
    ['6 °C T.Limit headroom', {tlimitMarginC: 6}],
    ['90 °C judged by a reported T.Limit headroom of 10 °C', {temperatureC: 90, tlimitMarginC: 10}],
    ['84 °C without T.Limit', {tlimitMarginC: undefined, temperatureC: 84}],
    ['corrected ECC errors only', {eccCorrectedVolatile: 1234}],
    ['a GeForce with no ECC or remap data', {eccUncorrectedVolatile: undefined, remappedRowsPending: undefined, remappedRowsFailure: undefined, tlimitMarginC: undefined}],
  ])('%s is OK', (_, change) => {
    expect(nvidiaOutcome({...H100, ...change}).status).toBe('OK')
  })

  it('the temperature metric carries thresholds only when they judge it', () => {
    expect(nvidiaOutcome({...H100, tlimitMarginC: undefined}).metrics[0]).toEqual({name: 'temperature', value: 59, warn: 85, crit: 95})
  })

  it('the worst finding wins, and every problem is listed', () => {
    const outcome = nvidiaOutcome({...H100, throttleReasons: ['hw_thermal_slowdown'], eccUncorrectedVolatile: 1})
    expect(outcome.status).toBe('CRITICAL')
    expect(outcome.summary).toBe(
      'NVIDIA H100 80GB HBM3: 1 uncorrected ECC error since driver load, drain the node; clocks slowed: hw_thermal_slowdown; 59°C, 100% busy, 19.4/79.6 GiB, 632/700 W',
    )
  })

  it('a GPU with nothing readable still gets a result, named by index', () => {
    expect(nvidiaOutcome({index: 3})).toMatchObject({name: 'gpu:3', status: 'OK', summary: 'GPU 3: no readings', metrics: []})
    expect(nvidiaOutcome({index: 1, name: 'Tesla T4', memoryUsedBytes: GiB, memoryTotalBytes: 15 * GiB, powerDrawW: 9.31}).summary).toBe('Tesla T4: 1.0/15.0 GiB, 9.31 W')
  })
})

describe('toolFailureOutcome', () => {
  it.each([
    ['driver-not-loaded', 'CRITICAL'],
    ['no-devices', 'CRITICAL'],
    ['version-mismatch', 'CRITICAL'],
    ['fallen-off-bus', 'CRITICAL'],
    ['permission', 'UNKNOWN'],
    ['invalid-field', 'UNKNOWN'],
    ['unknown', 'UNKNOWN'],
  ] as const)('%s is %s, as one `gpu` result', (kind, status) => {
    expect(toolFailureOutcome(kind, 'why')).toEqual({name: 'gpu', component: 'gpu', status, summary: 'why', metrics: []})
  })
})

describe('powermetricsOutcome', () => {
  const M2_ULTRA: PowermetricsSample = {hwModel: 'Mac14,14', gpuBusyPercent: 94.63, gpuFrequencyMhz: 1360.85, gpuPowerMw: 70_924.6, thermalPressure: 'Nominal'}

  it('Nominal is OK, with busy %, frequency, power and pressure', () => {
    expect(powermetricsOutcome(M2_ULTRA)).toEqual({
      name: 'gpu',
      component: 'gpu',
      status: 'OK',
      summary: 'Apple GPU (Mac14,14): 94.6% busy at 1361 MHz, 71 W, thermal pressure Nominal',
      metrics: [
        {name: 'utilization', value: 94.63, unit: '%'},
        {name: 'power', value: 70.925},
      ],
      details: {hwModel: 'Mac14,14', gpuFrequencyMhz: 1360.85, thermalPressure: 'Nominal'},
    })
  })

  it.each([
    ['Fair', 'WARNING'],
    ['Serious', 'WARNING'],
    ['Moderate', 'WARNING'],
    ['Heavy', 'WARNING'],
    ['Critical', 'CRITICAL'],
    ['Trapping', 'CRITICAL'],
    ['Sleeping', 'CRITICAL'],
    ['Something new', 'WARNING'],
  ])('thermal pressure %s is %s', (thermalPressure, status) => {
    expect(powermetricsOutcome({...M2_ULTRA, thermalPressure}).status).toBe(status)
  })

  it('a small draw keeps two decimals; no power, no power metric', () => {
    expect(powermetricsOutcome({gpuBusyPercent: 1.67, gpuFrequencyMhz: 714.836, gpuPowerMw: 15.3528, thermalPressure: 'Nominal'}).summary).toBe(
      'Apple GPU: 1.7% busy at 715 MHz, 0.02 W, thermal pressure Nominal',
    )
    expect(powermetricsOutcome({...M2_ULTRA, gpuPowerMw: undefined}).metrics.map((m) => m.name)).toEqual(['utilization'])
  })
})

describe('rules beyond the query CSV (issue: health rules)', () => {
  const xid = (n: number, severity: 'drain' | 'warn' | 'ignore', count = 1): XidSummary => ({
    xid: n,
    description: `Xid ${n} meaning`,
    severity,
    pciKey: '0000:00:09',
    count,
    message: 'm',
  })

  it.each<[string, Partial<GpuSnapshot>, GpuEvidence, string, string]>([
    ['a recovery action other than None', {recoveryAction: 'Reset'}, {}, 'CRITICAL', 'the driver recommends recovery action "Reset"'],
    ['drain and reset recommended', {drainAndResetRecommended: true, resetRequired: true}, {}, 'CRITICAL', 'the driver recommends drain and reset'],
    ['reset required alone', {resetRequired: true}, {}, 'CRITICAL', 'the GPU needs a reset'],
    ['a drain-worthy Xid', {}, {xids: [xid(79, 'drain', 2)]}, 'CRITICAL', 'Xid 79 (Xid 79 meaning) ×2, drain the node'],
    ['an application Xid', {}, {xids: [xid(31, 'warn')]}, 'WARNING', 'Xid 31 (Xid 31 meaning), an application error'],
    ['memory 98% full with allocation failures', {memoryUsedBytes: 80_000 * MiB}, {allocationFailures: 2}, 'WARNING', 'memory nearly full (98% used) and 2 allocation failures in the kernel log'],
    ['HBM within 5 °C of its maximum', {memoryTempC: 91, memoryMaxTempC: 95}, {}, 'WARNING', 'memory at 91°C, near its 95°C maximum'],
    ['at its absolute slowdown temperature', {tlimitMarginC: undefined, temperatureC: 89, slowdownTempC: 89}, {}, 'CRITICAL', 'hot: 89°C (≥ 89°C, slowdown at 89°C)'],
  ])('%s is %s', (_, change, evidence, status, text) => {
    const health = assessGpu({...H100, ...change}, DEFAULT_GPU_THRESHOLDS, evidence)
    expect(health.status).toBe(status)
    expect(health.findings.map((f) => f.text)).toContain(text)
  })

  it.each<[string, Partial<GpuSnapshot>, GpuEvidence]>([
    ['recovery action None', {recoveryAction: 'None'}, {}],
    ['an ignored Xid', {}, {xids: [xid(13, 'ignore')]}],
    ['memory 98% full without allocation failures (frameworks reserve it)', {memoryUsedBytes: 80_000 * MiB}, {}],
    ['allocation failures with memory to spare', {}, {allocationFailures: 5}],
    ['84 °C on a GPU whose slowdown is at 95 °C', {tlimitMarginC: undefined, temperatureC: 84, slowdownTempC: 95}, {}],
  ])('%s is OK', (_, change, evidence) => {
    expect(assessGpu({...H100, ...change}, DEFAULT_GPU_THRESHOLDS, evidence).status).toBe('OK')
  })

  it('thresholds come from the context: T.Limit and static temperatures, memory-full percent', () => {
    const strict = resolveGpuThresholds({tlimitWarn: 30, tlimitCrit: 20, tempWarn: 50, tempCrit: 60, memFullPercent: 20})
    expect(assessGpu(H100, strict).status).toBe('WARNING')
    expect(assessGpu({...H100, tlimitMarginC: undefined}, strict).findings[0].text).toBe('hot: 59°C (≥ 50°C)')
    expect(assessGpu(H100, strict, {allocationFailures: 1}).findings.map((f) => f.code)).toContain('memory-full')
    // Only the context sets them: a config error naming the keys (exit 78), not a usage error.
    expect(() => resolveGpuThresholds({tempWarn: 90, tempCrit: 80})).toThrowError(expect.objectContaining({exit: 78, why: 'gpu.tempWarn 90°C must be at most gpu.tempCrit 80°C'}))
    expect(() => resolveGpuThresholds({tlimitWarn: 0, tlimitCrit: 5})).toThrowError(expect.objectContaining({exit: 78, why: 'gpu.tlimitWarn 0°C of headroom must be at least gpu.tlimitCrit 5°C'}))
    expect(resolveGpuThresholds(undefined, {expectedGpus: 8, xidWindow: undefined})).toEqual({...DEFAULT_GPU_THRESHOLDS, expectedGpus: 8})
  })

  it('a field lost on many columns is summarised; the details keep the full list', () => {
    const gpu = {...H100, failure: {reason: 'GPU is lost', fields: ['a', 'b', 'c', 'd', 'e']}}
    expect(assessGpu(gpu).findings[0].text).toBe('cannot be read: GPU is lost (a, b, c and 2 more)')
    expect(nvidiaOutcome(gpu).details?.failure).toEqual(gpu.failure)
  })
})

describe('host findings', () => {
  it('fewer GPUs than expected is CRITICAL; more is a WARNING; none expected, no finding', () => {
    expect(hostFindings({found: 7, expected: 8})).toEqual([{status: 'CRITICAL', code: 'gpu-missing', text: 'expected 8 GPUs, found 7: 1 GPU missing'}])
    expect(hostFindings({found: 9, expected: 8})[0]).toMatchObject({status: 'WARNING', code: 'gpu-count'})
    expect(hostFindings({found: 3})).toEqual([])
  })

  it('an Xid on a bus no listed GPU answers for (a GPU that fell off the bus) is the host\'s', () => {
    const orphan: XidSummary = {xid: 79, description: 'GPU has fallen off the bus', severity: 'drain', pciKey: '0000:3a:00', count: 1, message: 'GPU has fallen off the bus.'}
    expect(hostFindings({found: 3, orphanXids: [orphan, {...orphan, xid: 13, severity: 'ignore'}]})).toEqual([
      {status: 'CRITICAL', code: 'xid-79', text: 'Xid 79 (GPU has fallen off the bus) on PCI 0000:3a:00, a bus no listed GPU answers for, drain the node'},
    ])
  })

  it('the host outcome carries the GPU count against the expected one', () => {
    expect(hostOutcome(hostFindings({found: 7, expected: 8}), 8, 7)).toEqual({
      name: 'gpu',
      component: 'gpu',
      status: 'CRITICAL',
      summary: 'expected 8 GPUs, found 7: 1 GPU missing',
      metrics: [{name: 'gpus', value: 7, crit: 8, lowIsBad: true}],
    })
  })
})

describe('gpuSummary and merge', () => {
  it('counts GPUs, not checks; lists each bad GPU with its findings', () => {
    const ok = assessGpu(H100)
    const bad = assessGpu({...H100, index: 1, remappedRowsPending: true})
    const checks = [nvidiaOutcome(H100)]
    expect(gpuSummary({tool: 'nvidia-smi', gpus: [ok, ok], hostFindings: [], checks}, 'OK')).toBe('2 GPUs OK')
    expect(gpuSummary({tool: 'nvidia-smi', gpus: [ok, bad], hostFindings: hostFindings({found: 2, expected: 3}), checks}, 'CRITICAL')).toBe(
      '1 of 2 GPUs CRITICAL: GPU 1: memory row remapping pending, drain and reset the GPU — expected 3 GPUs, found 2: 1 GPU missing',
    )
  })

  it('the CSV wins where it has a value; -q -x fills the rest and adds what only it knows', () => {
    const merged = merge({index: 0, busId: '00000000:18:00.0', temperatureC: 50}, {
      busId: '00000000:18:00.0',
      temperatureC: 99,
      recoveryAction: 'Reset',
      slowdownTempC: 89,
      retiredPages: {doubleBit: {count: 1, pages: [{address: '0x1'}]}, pending: true},
      processes: [{pid: 1, type: 'G'}],
    })
    expect(merged).toEqual({
      index: 0,
      busId: '00000000:18:00.0',
      temperatureC: 50,
      recoveryAction: 'Reset',
      slowdownTempC: 89,
      retiredPagesPending: true,
      retiredPages: {doubleBit: {count: 1, pages: [{address: '0x1'}]}},
      processes: [{pid: 1, type: 'G'}],
    })
  })
})

describe('context config: the gpu key', () => {
  it('accepts thresholds, expected count, Xid lists and durations; rejects unknown keys by name', () => {
    const parsed = ConfigFile.safeParse({contexts: {prod: {gpu: {expectedGpus: 8, tlimitWarn: 8, xidWindow: '6h', healthStaleAfter: '2m', xid: {drain: [31], ignore: [13]}}}}})
    expect(parsed.success).toBe(true)
    expect(parsed.data?.contexts.prod.gpu).toEqual({expectedGpus: 8, tlimitWarn: 8, xidWindow: 21_600, healthStaleAfter: 120, xid: {drain: [31], ignore: [13]}})
    const bad = ConfigFile.safeParse({contexts: {prod: {gpu: {expectedGPUs: 8}}}})
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0].path).toEqual(['contexts', 'prod', 'gpu'])
  })
})

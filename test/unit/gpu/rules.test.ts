import {describe, expect, it} from 'vitest'
import type {NvidiaGpu} from '../../../src/lib/adapters/gpu/nvidia-smi.js'
import type {PowermetricsSample} from '../../../src/lib/adapters/gpu/powermetrics.js'
import {nvidiaOutcome, powermetricsOutcome, toolFailureOutcome} from '../../../src/lib/health/checks/gpu.js'

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

describe('nvidiaOutcome', () => {
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

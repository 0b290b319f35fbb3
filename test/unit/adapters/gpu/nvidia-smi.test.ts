import {describe, expect, it} from 'vitest'
import {ParseError} from '../../../../src/lib/core/errors.js'
import {GpuToolError} from '../../../../src/lib/adapters/gpu/errors.js'
import {decodeThrottleReasons, parseQueryGpuCsv} from '../../../../src/lib/adapters/gpu/nvidia-smi.js'
import {recognizeFailure} from '../../../../src/lib/adapters/gpu/nvidia-smi-failures.js'
import {parseComputeAppsCsv} from '../../../../src/lib/adapters/gpu/nvidia-smi-apps.js'
import {captureNames, haveCaptures, noteMissingCaptures, readCapture, readLocalFixture} from '../../../fixtures/gpu/captures.js'

const MiB = 2 ** 20

noteMissingCaptures('nvidia-smi parser on real captures')

describe.skipIf(!haveCaptures)('parseQueryGpuCsv on real captures', () => {
  const captures = captureNames(/^nvidia-smi-query-gpu-.*\.csv$/)

  it('finds the seven query-gpu captures', () => {
    expect(captures).toHaveLength(7)
  })

  it.each(captures)('reads %s: one GPU with index, name, bus id and memory', (name) => {
    const gpus = parseQueryGpuCsv(readCapture(name))
    expect(gpus).toHaveLength(1)
    expect(gpus[0]).toMatchObject({index: 0, busId: expect.stringMatching(/^[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.\d$/)})
    expect(gpus[0].name).toMatch(/^(NVIDIA|Tesla)/)
    expect(gpus[0].memoryTotalBytes).toBeGreaterThan(0)
    expect(gpus[0].failure).toBeUndefined()
  })

  it('H100 idle (590.48.01, 212 fields with units): every health field, the idle bit decoded', () => {
    const [gpu] = parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-h100-80gb-hbm3-driver590.48.01-idle.csv'))
    expect(gpu).toEqual({
      index: 0,
      uuid: 'GPU-00000000-0000-0000-0000-000000000000',
      name: 'NVIDIA H100 80GB HBM3',
      busId: '00000000:00:09.0',
      driverVersion: '590.48.01',
      temperatureC: 41,
      tlimitMarginC: 46,
      utilizationPercent: 0,
      memoryTotalBytes: 81559 * MiB,
      memoryUsedBytes: 0,
      powerDrawW: 69.85,
      powerLimitW: 700,
      throttleReasons: ['gpu_idle'],
      eccUncorrectedVolatile: 0,
      eccCorrectedVolatile: 0,
      // H100 remaps rows instead of retiring pages: retired_pages.pending is [N/A].
      remappedRowsPending: false,
      remappedRowsFailure: false,
      recoveryAction: 'None',
    })
  })

  it('H100 under gpu-burn: 59 °C, 26 °C T.Limit headroom, 100 %, 19818 MiB, 631.95 W, no throttling', () => {
    const [gpu] = parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-h100-80gb-hbm3-driver590.48.01-load.csv'))
    expect(gpu).toMatchObject({
      temperatureC: 59,
      tlimitMarginC: 26,
      utilizationPercent: 100,
      memoryUsedBytes: 19818 * MiB,
      powerDrawW: 631.95,
      throttleReasons: [],
    })
  })

  it('H200 and L40S under load', () => {
    expect(parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-h200-driver590.48.01-load.csv'))[0]).toMatchObject({
      name: 'NVIDIA H200',
      busId: '00000000:83:00.0',
      temperatureC: 52,
      tlimitMarginC: 35,
      memoryTotalBytes: 143771 * MiB,
      memoryUsedBytes: 32362 * MiB,
      powerDrawW: 627.4,
    })
    expect(parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-l40s-driver595.80-load.csv'))[0]).toMatchObject({
      name: 'NVIDIA L40S',
      driverVersion: '595.80',
      temperatureC: 54,
      utilizationPercent: 9,
      memoryTotalBytes: 46068 * MiB,
      powerDrawW: 110.23,
      powerLimitW: 350,
    })
  })

  it('RTX 4080 SUPER (GeForce): ECC, remapping and T.Limit are [N/A], so undefined', () => {
    const [gpu] = parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-rtx4080super-driver595.71.05-load.csv'))
    expect(gpu).toMatchObject({name: 'NVIDIA GeForce RTX 4080 SUPER', temperatureC: 46, utilizationPercent: 7, powerDrawW: 84.24, powerLimitW: 320})
    for (const key of ['tlimitMarginC', 'eccUncorrectedVolatile', 'eccCorrectedVolatile', 'retiredPagesPending', 'remappedRowsPending', 'remappedRowsFailure'] as const) {
      expect(gpu[key], key).toBeUndefined()
    }
  })

  it('T4 (550.54.15, nounits values, edited upstream): N/A and [N/A] in one row, no uuid, no power.draw', () => {
    const [gpu] = parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-t4-driver550.54.15-na.edited.csv'))
    expect(gpu).toEqual({
      index: 0,
      name: 'Tesla T4',
      busId: '00000001:01:00.0',
      driverVersion: '550.54.15',
      temperatureC: 26,
      utilizationPercent: 2,
      memoryTotalBytes: 15360 * MiB,
      memoryUsedBytes: 100 * MiB,
      // power.draw.average is [N/A]; the ECC counts are VirtualClient's made-up sequence, not real errors.
      eccUncorrectedVolatile: 5,
      eccCorrectedVolatile: 20,
    })
  })

  it('H100 on 535.161.07 (edited upstream): power from power.draw.average, memory from a unitless value, edited ECC counts', () => {
    const [gpu] = parseQueryGpuCsv(readCapture('nvidia-smi-query-gpu-h100-driver535.161.07.edited.csv'))
    expect(gpu).toMatchObject({
      name: 'NVIDIA H100 80GB HBM3',
      busId: '00000000:0A:00.0',
      driverVersion: '535.161.07',
      temperatureC: 26,
      utilizationPercent: 1,
      memoryTotalBytes: 81559 * MiB,
      memoryUsedBytes: 3 * MiB,
      powerDrawW: 70.89,
      eccUncorrectedVolatile: 14,
      eccCorrectedVolatile: 7,
    })
    expect(gpu.uuid).toBeUndefined()
    expect(gpu.powerLimitW).toBeUndefined()
  })

  it('gpustat mock (noheader,nounits) once given a header: [Not Supported] utilization is undefined', () => {
    const header = 'index, uuid, name, temperature.gpu, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n'
    const gpus = parseQueryGpuCsv(header + readCapture('mock/gpustat-mock-query-gpu-noheader-nounits-titanx-not-supported.csv'))
    expect(gpus.map((gpu) => [gpu.index, gpu.name, gpu.temperatureC, gpu.utilizationPercent, gpu.memoryUsedBytes])).toEqual([
      [0, 'GeForce GTX TITAN X', 80, 76, 8000 * MiB],
      [1, 'GeForce GTX TITAN X', 36, 0, 9000 * MiB],
      [2, 'GeForce GTX TITAN X', 71, undefined, 8520 * MiB],
    ])
    expect(gpus[2].failure).toBeUndefined()
  })
})

describe('parseQueryGpuCsv on hand-written fixtures', () => {
  it('reads four GPUs in index order, decoding throttle bits, pending remaps and lost values', () => {
    const gpus = parseQueryGpuCsv(readLocalFixture('query-gpu-4x-h100-faults.csv'))
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3])
    expect(gpus[1]).toMatchObject({tlimitMarginC: 3, throttleReasons: ['sw_power_cap', 'hw_thermal_slowdown'], remappedRowsPending: true, eccCorrectedVolatile: 2})
    expect(gpus[2].failure).toEqual({
      reason: 'GPU is lost',
      fields: [
        'temperature.gpu',
        'temperature.gpu.tlimit',
        'utilization.gpu',
        'memory.used',
        'power.draw',
        'clocks_throttle_reasons.active',
        'ecc.errors.uncorrected.volatile.total',
        'ecc.errors.corrected.volatile.total',
        'remapped_rows.pending',
        'remapped_rows.failure',
      ],
    })
    expect(gpus[2]).toMatchObject({name: 'NVIDIA H100 80GB HBM3', memoryTotalBytes: 81559 * MiB, powerLimitW: 700})
    expect(gpus[2].temperatureC).toBeUndefined()
    expect(gpus[3]).toMatchObject({eccUncorrectedVolatile: 3, throttleReasons: ['gpu_idle']})
  })

  it('H100 under load, --format=csv with 38 fields and units: every health field; extra, deprecated, N/A and empty cells ignored', () => {
    expect(parseQueryGpuCsv(readLocalFixture('query-gpu-h100-load-wide.csv'))).toEqual([
      {
        index: 0,
        uuid: 'GPU-7c3a5e10-0000-4d2b-9e8f-000000000001',
        name: 'NVIDIA H100 80GB HBM3',
        busId: '00000000:00:09.0',
        driverVersion: '590.48.01',
        temperatureC: 61,
        tlimitMarginC: 24,
        utilizationPercent: 100,
        memoryTotalBytes: 81559 * MiB,
        memoryUsedBytes: 20480 * MiB,
        // power.draw comes before power.draw.average and .instant in the header: it is the one read.
        powerDrawW: 640.25,
        powerLimitW: 700,
        throttleReasons: [],
        eccUncorrectedVolatile: 0,
        eccCorrectedVolatile: 0,
        // Hopper remaps rows instead of retiring pages: retired_pages.pending is [N/A].
        remappedRowsPending: false,
        remappedRowsFailure: false,
        recoveryAction: 'None',
      },
    ])
  })

  it('--format=csv,nounits: units only in the header, N/A with and without brackets, no uuid column, power from power.draw.average', () => {
    const [t4, geforce] = parseQueryGpuCsv(readLocalFixture('query-gpu-nounits-t4-rtx4090.csv'))
    expect(t4).toEqual({
      index: 0,
      name: 'Tesla T4',
      busId: '00000001:01:00.0',
      driverVersion: '550.54.15',
      temperatureC: 27,
      utilizationPercent: 2,
      memoryTotalBytes: 15360 * MiB,
      memoryUsedBytes: 103 * MiB,
      powerLimitW: 70,
      throttleReasons: ['gpu_idle'],
      eccUncorrectedVolatile: 0,
      eccCorrectedVolatile: 0,
      retiredPagesPending: false,
    })
    // GeForce: ECC, retirement, remapping and T.Limit are [N/A], so undefined, not zero or false.
    expect(geforce).toMatchObject({name: 'NVIDIA GeForce RTX 4090', temperatureC: 47, utilizationPercent: 8, memoryUsedBytes: 1390 * MiB, powerDrawW: 84.24, powerLimitW: 450})
    for (const key of ['tlimitMarginC', 'eccUncorrectedVolatile', 'eccCorrectedVolatile', 'retiredPagesPending', 'remappedRowsPending', 'remappedRowsFailure', 'uuid', 'failure'] as const) {
      expect(geforce[key], key).toBeUndefined()
    }
  })

  it('--format=csv,noheader,nounits once given a header: [Not Supported] utilization is undefined, not a failure', () => {
    const header = 'index, uuid, name, temperature.gpu, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n'
    const gpus = parseQueryGpuCsv(header + readLocalFixture('query-gpu-noheader-nounits-not-supported.csv'))
    expect(gpus.map((gpu) => [gpu.index, gpu.name, gpu.temperatureC, gpu.utilizationPercent, gpu.memoryUsedBytes, gpu.memoryTotalBytes])).toEqual([
      [0, 'NVIDIA GeForce GTX TITAN X', 79, 71, 7300 * MiB, 12288 * MiB],
      [1, 'NVIDIA GeForce GTX TITAN X', 35, 0, 9100 * MiB, 12288 * MiB],
      [2, 'NVIDIA GeForce GTX TITAN X', 70, undefined, 8520 * MiB, 12288 * MiB],
    ])
    expect(gpus[2].failure).toBeUndefined()
    // Without the header it is refused, not misread.
    expect(() => parseQueryGpuCsv(readLocalFixture('query-gpu-noheader-nounits-not-supported.csv'))).toThrowError(/not a CSV header/)
  })

  it('reads an old driver answer without the optional fields', () => {
    const gpus = parseQueryGpuCsv(readLocalFixture('query-gpu-v100-driver418-no-optional.csv'))
    expect(gpus[1]).toMatchObject({name: 'Tesla V100-SXM2-32GB', retiredPagesPending: true, eccCorrectedVolatile: 12})
    expect(gpus[1].tlimitMarginC).toBeUndefined()
    expect(gpus[1].remappedRowsPending).toBeUndefined()
  })
})

describe('parseQueryGpuCsv edge cases', () => {
  const header = 'index, name, temperature.gpu, memory.used [MiB], retired_pages.pending, clocks_event_reasons.active'

  it('maps columns by header name in any order, and the new throttle-reasons spelling', () => {
    const [gpu] = parseQueryGpuCsv(`memory.used [MiB], clocks_event_reasons.active, name, index\r\n12 MiB, 0x00000000000000A8, A10, 3\r\n`)
    expect(gpu).toEqual({index: 3, name: 'A10', memoryUsedBytes: 12 * MiB, throttleReasons: ['hw_slowdown', 'sw_thermal_slowdown', 'hw_power_brake_slowdown']})
  })

  it.each([
    ['[N/A]'],
    ['N/A'],
    ['[Not Supported]'],
    ['[Insufficient Permissions]'],
    ['[Requested functionality has been deprecated]'],
    [''],
  ])('%j means not supported', (token) => {
    const [gpu] = parseQueryGpuCsv(`${header}\n0, X, ${token}, 1 MiB, No, 0x0`)
    expect(gpu.temperatureC).toBeUndefined()
    expect(gpu.failure).toBeUndefined()
  })

  it.each([
    ['[Unknown Error]', 'Unknown Error'],
    ['[GPU is lost]', 'GPU is lost'],
  ])('%s marks the GPU failed', (token, reason) => {
    const [gpu] = parseQueryGpuCsv(`${header}\n0, X, ${token}, 1 MiB, No, 0x0`)
    expect(gpu.failure).toEqual({reason, fields: ['temperature.gpu']})
  })

  it('a GPU whose index cannot be read keeps its row position', () => {
    const gpus = parseQueryGpuCsv(`${header}\n0, X, 30, 1 MiB, No, 0x0\n[GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost]`)
    expect(gpus[1]).toMatchObject({index: 1, failure: {reason: 'GPU is lost'}})
    expect(gpus[1].failure?.fields).toContain('index')
  })

  it('a header alone is no GPU', () => {
    expect(parseQueryGpuCsv(`${header}\n`)).toEqual([])
  })

  it.each([
    ['an empty output', '', /it is empty/],
    ['output without a header', '0, X, 30, 1 MiB, No, 0x0', /not a CSV header/],
    ['a short row', `${header}\n0, X, 30`, /GPU row 1 has 3 values for 6 columns/],
    ['a word for a number', `${header}\n0, X, hot, 1 MiB, No, 0x0`, /temperature.gpu is "hot", expected a number/],
    ['a bad flag', `${header}\n0, X, 30, 1 MiB, Maybe, 0x0`, /retired_pages.pending is "Maybe", expected Yes or No/],
    ['a decimal bitmask', `${header}\n0, X, 30, 1 MiB, No, 68`, /expected a hex bitmask/],
    ['memory in an unknown unit', `${header}\n0, X, 30, 1 MB, No, 0x0`, /memory.used is "1 MB"/],
  ])('%s is a ParseError', (_, csv, why) => {
    expect(() => parseQueryGpuCsv(csv)).toThrowError(ParseError)
    expect(() => parseQueryGpuCsv(csv)).toThrowError(why)
  })
})

describe('decodeThrottleReasons', () => {
  it('names each NVML bit and ignores unknown high bits', () => {
    expect(decodeThrottleReasons(0x1ffn)).toHaveLength(9)
    expect(decodeThrottleReasons(0x40n)).toEqual(['hw_thermal_slowdown'])
    expect(decodeThrottleReasons(0x8000_0000_0000_0000n)).toEqual([])
  })
})

describe('recognizeFailure', () => {
  const DRIVER =
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"

  it.each([
    ['driver not loaded (stdout, exit 9)', {exitCode: 9, stdout: DRIVER, stderr: ''}, 'driver-not-loaded'],
    ['driver not loaded by exit code alone', {exitCode: 9, stdout: '', stderr: ''}, 'driver-not-loaded'],
    [
      'NVML missing',
      {exitCode: 12, stdout: "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.\n", stderr: ''},
      'driver-not-loaded',
    ],
    ['no devices', {exitCode: 6, stdout: 'No devices were found\n', stderr: ''}, 'no-devices'],
    ['version mismatch', {exitCode: 18, stdout: '', stderr: 'Failed to initialize NVML: Driver/library version mismatch\n'}, 'version-mismatch'],
    ['lost GPU with exit 0', {exitCode: 0, stdout: 'index, name\n0, A\n', stderr: 'Unable to determine the device handle for GPU3: 0000:04:00.0: Unknown Error\n'}, 'fallen-off-bus'],
    ['fallen off the bus by exit code', {exitCode: 15, stdout: '', stderr: ''}, 'fallen-off-bus'],
    ['permission', {exitCode: 4, stdout: '', stderr: 'Unable to determine the device handle for GPU 0000:01:00.0: Insufficient Permissions\n'}, 'permission'],
    ['unknown field', {exitCode: 2, stdout: 'Field "temperature.gpu.tlimit" is not a valid field to query.\n\n', stderr: ''}, 'invalid-field'],
    ['something else', {exitCode: 255, stdout: '', stderr: 'Segmentation fault\n'}, 'unknown'],
  ] as const)('%s', (_, result, kind) => {
    const failure = recognizeFailure(result)
    expect(failure?.error).toBeInstanceOf(GpuToolError)
    expect(failure?.error.kind).toBe(kind)
    expect(failure?.error.hint).toBeTruthy()
  })

  it('says which GPU is lost and keeps the field nvidia-smi rejected', () => {
    const lost = recognizeFailure({exitCode: 0, stdout: '', stderr: 'Unable to determine the device handle for GPU0000:CB:00.0: Unknown Error\n'})
    expect(lost?.error.why).toBe('GPU0000:CB:00.0 cannot be reached: Unknown Error (GPU fallen off the bus or lost)')
    expect(recognizeFailure({exitCode: 2, stdout: 'Field "remapped_rows.failure" is not a valid field to query.', stderr: ''})?.field).toBe('remapped_rows.failure')
  })

  it('a clean run is no failure, nor is a bracketed value inside the CSV (it concerns one field of one GPU)', () => {
    expect(recognizeFailure({exitCode: 0, stdout: 'index, name\n0, NVIDIA A100\n', stderr: ''})).toBeUndefined()
    expect(recognizeFailure({exitCode: 0, stdout: 'index, temperature.gpu\n0, [GPU is lost]\n', stderr: ''})).toBeUndefined()
    expect(recognizeFailure({exitCode: 0, stdout: 'index, ecc.mode.current\n0, [Insufficient Permissions]\n', stderr: ''})).toBeUndefined()
  })

  it('an unknown failure quotes the first line and the exit code', () => {
    expect(recognizeFailure({exitCode: 255, stdout: '', stderr: '\nSegmentation fault\nmore'})?.error.line).toBe(
      'nvidia-smi failed: exit code 255: Segmentation fault (run nvidia-smi by hand to see the full message)',
    )
  })
})

describe('parseComputeAppsCsv', () => {
  it.skipIf(!haveCaptures)('H100 under load: three compute processes joined by uuid and bus id, memory in bytes', () => {
    const apps = parseComputeAppsCsv(readCapture('nvidia-smi-query-compute-apps-h100-driver590.48.01-load.csv'))
    expect(apps).toEqual([
      {busId: '00000000:00:09.0', gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000', pid: 11327, name: '/root/tools/memhog', usedMemoryBytes: 2566 * MiB},
      {busId: '00000000:00:09.0', gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000', pid: 11328, name: '/root/tools/memhog', usedMemoryBytes: 1542 * MiB},
      {busId: '00000000:00:09.0', gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000', pid: 11345, name: './gpu_burn', usedMemoryBytes: 15690 * MiB},
    ])
  })

  it.skipIf(!haveCaptures)('Windows WDDM: memory is [N/A] on every row, so undefined', () => {
    const apps = parseComputeAppsCsv(readCapture('nvidia-smi-query-compute-apps-windows-rtx2080super-driver610.62-wddm-na.csv'))
    expect(apps.length).toBeGreaterThan(10)
    expect(apps.every((p) => p.usedMemoryBytes === undefined && p.pid !== undefined)).toBe(true)
    expect(apps[0].name).toBe('C:\\Windows\\System32\\dwm.exe')
  })

  it.skipIf(!haveCaptures)('gpustat mock (noheader,nounits) given a header: [Not Supported] pid and memory', () => {
    const apps = parseComputeAppsCsv(`gpu_uuid, pid, used_memory\n${readCapture('mock/gpustat-mock-query-compute-apps-noheader-nounits-not-supported.csv')}`)
    expect(apps).toHaveLength(6)
    expect(apps[0]).toEqual({gpuUuid: 'GPU-10fb0fbd-2696-43f3-467f-d280d906a107', pid: 48448, usedMemoryBytes: 4000 * MiB})
    expect(apps[5]).toEqual({gpuUuid: 'GPU-50205d95-57b6-f541-2bcb-86c09afed564'})
  })

  it('hand-written, under load: three compute processes joined by uuid and bus id, memory in bytes', () => {
    const gpu = {busId: '00000000:00:09.0', gpuUuid: 'GPU-7c3a5e10-0000-4d2b-9e8f-000000000001'}
    expect(parseComputeAppsCsv(readLocalFixture('query-compute-apps-h100-3-procs.csv'))).toEqual([
      {...gpu, pid: 20211, name: '/opt/bench/memhog', usedMemoryBytes: 2048 * MiB},
      {...gpu, pid: 20212, name: '/opt/bench/memhog', usedMemoryBytes: 1024 * MiB},
      {...gpu, pid: 20240, name: './gpu_burn', usedMemoryBytes: 16384 * MiB},
    ])
  })

  it('hand-written, Windows WDDM (CRLF): memory is [N/A] on every row, so undefined; paths with spaces and backslashes kept', () => {
    const apps = parseComputeAppsCsv(readLocalFixture('query-compute-apps-wddm-na.csv'))
    expect(apps).toHaveLength(4)
    expect(apps.every((p) => p.usedMemoryBytes === undefined && p.pid !== undefined && p.busId === '00000000:01:00.0')).toBe(true)
    expect(apps.map((p) => p.name)).toEqual([
      'C:\\Windows\\System32\\dwm.exe',
      'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
      'C:\\Windows\\explorer.exe',
      'C:\\Users\\ops\\AppData\\Local\\Programs\\Python\\Python312\\python.exe',
    ])
  })

  it('hand-written, noheader,nounits given a header: [Not Supported] pid and memory are left out', () => {
    const apps = parseComputeAppsCsv(`gpu_uuid, pid, used_memory\n${readLocalFixture('query-compute-apps-noheader-nounits-not-supported.csv')}`)
    expect(apps).toEqual([
      {gpuUuid: 'GPU-3e1f0a42-0000-4b7c-8d21-000000000000', pid: 51200, usedMemoryBytes: 3900 * MiB},
      {gpuUuid: 'GPU-3e1f0a42-1111-4b7c-8d21-000000000000', pid: 51342, usedMemoryBytes: 8810 * MiB},
      {gpuUuid: 'GPU-3e1f0a42-2222-4b7c-8d21-000000000000'},
    ])
  })

  it('an idle GPU (header only, or nothing) has no process; a name with commas keeps them', () => {
    expect(parseComputeAppsCsv('gpu_uuid, pid, process_name, used_gpu_memory [MiB]\n')).toEqual([])
    expect(parseComputeAppsCsv('')).toEqual([])
    expect(parseComputeAppsCsv('gpu_uuid, pid, process_name, used_gpu_memory [MiB]\nGPU-1, 7, python -c a,b, 12 MiB')).toEqual([
      {gpuUuid: 'GPU-1', pid: 7, name: 'python -c a, b', usedMemoryBytes: 12 * MiB},
    ])
    expect(() => parseComputeAppsCsv('0, 1, 2')).toThrowError(/not a CSV header/)
    expect(() => parseComputeAppsCsv('pid, used_memory\nseven, 1')).toThrowError(/pid is "seven", expected a process id/)
  })
})

import {describe, expect, it} from 'vitest'

import {parseNvidiaSmiXml} from '../../../../src/lib/adapters/gpu/nvidia-smi-xml.js'
import {childrenNamed, parseXml} from '../../../../src/lib/adapters/gpu/xml.js'
import {ParseError} from '../../../../src/lib/core/errors.js'
import {merge} from '../../../../src/lib/gpu/collect.js'
import {assessGpu} from '../../../../src/lib/gpu/rules.js'
import {captureNames, haveCaptures, noteMissingCaptures, readCapture, readLocalFixture} from '../../../fixtures/gpu/captures.js'

const MiB = 2 ** 20

describe('parseXml', () => {
  it('reads elements, attributes and trimmed text; skips declaration, comments, DOCTYPE with an internal subset', () => {
    const root = parseXml(`<?xml version="1.0" ?>
<!DOCTYPE log [ <!ELEMENT log (a)> <!ATTLIST a id CDATA #REQUIRED> ]>
<!-- note <a> -->
<log><a id="x&amp;y" k='v'> 1 &lt; 2 </a><b/><c><![CDATA[<raw>]]></c></log>`)
    expect(root.name).toBe('log')
    expect(root.children.map((c) => c.name)).toEqual(['a', 'b', 'c'])
    expect(root.children[0]).toMatchObject({attributes: {id: 'x&y', k: 'v'}, text: '1 < 2'})
    expect(root.children[2].text).toBe('<raw>')
    expect(childrenNamed(root, 'a')).toHaveLength(1)
  })

  it.each([
    ['a cut-short document', '<log><a>1</a>', /<log> is not closed/],
    ['a mismatched close tag', '<log><a>1</b></log>', /<\/b> does not close <a>/],
    ['two roots', '<a/><b/>', /a second root element/],
    ['no element at all', '  ', /there is no element/],
    ['text outside the root', 'oops<a/>', /outside the root/],
  ])('%s is a ParseError', (_, xml, why) => {
    expect(() => parseXml(xml)).toThrowError(ParseError)
    expect(() => parseXml(xml)).toThrowError(why)
  })
})

describe('parseNvidiaSmiXml on the hand-written fixture (v13 layout with --dtd)', () => {
  const report = parseNvidiaSmiXml(readLocalFixture('q-x-2x-h100-faults.xml'))
  const [first, second] = report.gpus

  it('reads the header without a DTD version (the DOCTYPE is inline) and two GPUs', () => {
    expect(report).toMatchObject({driverVersion: '590.48.01', cudaVersion: '13.1', attachedGpus: 2})
    expect(report.schema).toBeUndefined()
    expect(report.gpus.map((g) => g.busId)).toEqual(['00000000:18:00.0', '00000000:2A:00.0'])
  })

  it('GPU 0: recovery action, active thermal slowdown, remap pending, T.Limit, padded values, entities in a process name', () => {
    expect(first).toMatchObject({
      recoveryAction: 'Drain and Reset',
      throttleReasons: ['sw_power_cap', 'sw_thermal_slowdown'],
      remappedRows: {correctable: 3, uncorrectable: 1, pending: true, failure: false},
      temperatureC: 86,
      tlimitMarginC: 1,
      slowdownTlimitC: -2,
      shutdownTlimitC: -8,
      memoryTempC: 91,
      utilizationPercent: 100,
      memoryTotalBytes: 81559 * MiB,
      memoryUsedBytes: 80102 * MiB,
      powerDrawW: 688.2,
      powerLimitW: 700,
      ecc: {volatileCorrected: 16, volatileUncorrected: 0, aggregateCorrected: 350, aggregateUncorrected: 3},
      processes: [{pid: 48121, type: 'C', name: 'python3 train.py --model "llm-7b" & eval', usedMemoryBytes: 79800 * MiB}],
    })
    // Every retired-pages field is N/A on Hopper: nothing to report, not zero.
    expect(first.retiredPages).toBeUndefined()
    expect(first.failure).toBeUndefined()
  })

  it('GPU 1: reset status, SRAM parity + DRAM uncorrectable summed, and the lost values recorded as a failure', () => {
    expect(second).toMatchObject({
      resetRequired: true,
      drainAndResetRecommended: true,
      throttleReasons: ['gpu_idle', 'hw_power_brake_slowdown'],
      ecc: {volatileCorrected: 0, volatileUncorrected: 3},
      processes: [],
      failure: {reason: 'Unknown Error', fields: ['gpu_temp', 'average_power_draw']},
    })
    expect(second.remappedRows).toBeUndefined()
    expect(second.temperatureC).toBeUndefined()
  })

  it('rejects what is not nvidia-smi XML, and values that are not what the schema says', () => {
    expect(() => parseNvidiaSmiXml('<plist/>')).toThrowError(/root element is <plist>/)
    expect(() => parseNvidiaSmiXml('<nvidia_smi_log><gpu id="0:1:0.0"><temperature><gpu_temp>warm</gpu_temp></temperature></gpu></nvidia_smi_log>')).toThrowError(
      /<gpu_temp> is "warm", expected a number/,
    )
  })
})

describe('parseNvidiaSmiXml on hand-written fixtures of each schema', () => {
  const names = ['q-x-v100-v10-dbe-retired-pages.xml', 'q-x-t4-v11-throttle-names.xml', 'q-x-a100-v12-mig.xml', 'q-x-rtx-ada-v13-healthy.xml', 'q-x-quadro-418-no-doctype-ecc-na.xml']

  it.each(names)('%s: GPUs with bus id, uuid, name, memory, throttle reasons; nothing fails', (name) => {
    const report = parseNvidiaSmiXml(readLocalFixture(name))
    expect(report.gpus.length).toBeGreaterThan(0)
    for (const gpu of report.gpus) {
      expect(gpu.busId).toMatch(/^[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.\d$/)
      expect(gpu.uuid).toMatch(/^GPU-/)
      expect(gpu.name).toBeTruthy()
      expect(gpu.memoryTotalBytes).toBeGreaterThan(0)
      expect(gpu.failure).toBeUndefined()
    }
  })

  it('schema versions v10-v13 from the DOCTYPE, none without one; a trimmed output: count <gpu>, not attached_gpus', () => {
    expect(names.map((name) => parseNvidiaSmiXml(readLocalFixture(name)).schema)).toEqual([10, 11, 12, 13, undefined])
    const v100 = parseNvidiaSmiXml(readLocalFixture('q-x-v100-v10-dbe-retired-pages.xml'))
    expect(v100).toMatchObject({driverVersion: '410.104', cudaVersion: '10.0', attachedGpus: 2})
    expect(v100.gpus).toHaveLength(1)
  })

  it('V100 (v10): old ECC layout, double-bit ECC volatile and aggregate, two retired pages with addresses, retirement pending; the rules drain it', () => {
    const [v100] = parseNvidiaSmiXml(readLocalFixture('q-x-v100-v10-dbe-retired-pages.xml')).gpus
    expect(v100).toEqual({
      busId: '00000000:3B:00.0',
      uuid: 'GPU-8d2c7b11-0000-4e3a-b5c6-000000000000',
      name: 'Tesla V100-SXM2-16GB',
      throttleReasons: ['gpu_idle'],
      memoryTotalBytes: 16160 * MiB,
      memoryUsedBytes: 0,
      utilizationPercent: 0,
      temperatureC: 36,
      slowdownTempC: 87,
      shutdownTempC: 90,
      maxOperatingTempC: 83,
      memoryTempC: 34,
      memoryMaxTempC: 85,
      powerDrawW: 42.17,
      powerLimitW: 300,
      ecc: {volatileCorrected: 2, volatileUncorrected: 1, aggregateCorrected: 148, aggregateUncorrected: 9},
      retiredPages: {
        singleBit: {count: 0, pages: []},
        doubleBit: {
          count: 2,
          pages: [
            {address: '0x00000000000a1b2c', time: 'Tue Mar 11 22:04:51 2025'},
            {address: '0x00000000000a1b2d', time: 'Fri Mar 14 09:18:07 2025'},
          ],
        },
        pending: true,
      },
      processes: [],
    })
    const health = assessGpu(merge({index: 0, busId: v100.busId}, v100))
    expect(health.status).toBe('CRITICAL')
    expect(health.findings.map((f) => f.code)).toEqual(['ecc-uncorrected', 'pages-pending'])
  })

  it('A100 MIG (v12): the MIG device\'s memory, utilization and ECC do not leak into the GPU; reset status read; remapped rows N/A', () => {
    const [a100] = parseNvidiaSmiXml(readLocalFixture('q-x-a100-v12-mig.xml')).gpus
    expect(a100).toMatchObject({
      name: 'NVIDIA A100-SXM4-40GB',
      memoryTotalBytes: 40960 * MiB,
      memoryUsedBytes: 19012 * MiB,
      resetRequired: false,
      drainAndResetRecommended: false,
      throttleReasons: [],
      ecc: {volatileCorrected: 0, volatileUncorrected: 0, aggregateCorrected: 5, aggregateUncorrected: 0},
      temperatureC: 31,
      slowdownTempC: 89,
      memoryTempC: 40,
      memoryMaxTempC: 95,
      powerDrawW: 88.41,
      powerLimitW: 400,
      processes: [],
    })
    expect(a100.remappedRows).toBeUndefined()
    expect(a100.retiredPages).toBeUndefined()
    expect(a100.utilizationPercent).toBeUndefined()
    expect(a100.tlimitMarginC).toBeUndefined()
    expect(assessGpu(merge({index: 0, busId: a100.busId}, a100)).status).toBe('OK')
  })

  it('T4 (v11): <clocks_throttle_reasons>, old power_readings, graphics and compute processes, nothing pending', () => {
    const [t4] = parseNvidiaSmiXml(readLocalFixture('q-x-t4-v11-throttle-names.xml')).gpus
    expect(t4).toMatchObject({name: 'Tesla T4', throttleReasons: [], utilizationPercent: 12, slowdownTempC: 93, powerDrawW: 31.4, powerLimitW: 70, retiredPages: {pending: false}})
    expect(t4.memoryTempC).toBeUndefined()
    expect(t4.processes).toEqual([
      {pid: 1204, type: 'G', name: '/usr/lib/xorg/Xorg', usedMemoryBytes: 24 * MiB},
      {pid: 7310, type: 'C', name: 'python3', usedMemoryBytes: 1102 * MiB},
    ])
  })

  it('RTX Ada (v13): <clocks_event_reasons>, T.Limit-relative thresholds, recovery action None, average power, G, C and C+G processes; OK', () => {
    const [ada] = parseNvidiaSmiXml(readLocalFixture('q-x-rtx-ada-v13-healthy.xml')).gpus
    expect(ada).toMatchObject({
      recoveryAction: 'None',
      throttleReasons: ['gpu_idle'],
      temperatureC: 41,
      tlimitMarginC: 46,
      slowdownTlimitC: -2,
      shutdownTlimitC: -7,
      powerDrawW: 7.92,
      powerLimitW: 70,
      remappedRows: {correctable: 0, uncorrectable: 0, pending: false, failure: false},
    })
    // Every ECC counter N/A on a GPU without ECC: no ecc at all, not zeros.
    expect(ada.ecc).toBeUndefined()
    expect(ada.slowdownTempC).toBeUndefined()
    expect(ada.processes.map((p) => [p.pid, p.type, p.name])).toEqual([
      [1710, 'G', '/usr/bin/gnome-shell'],
      [5120, 'C', 'python'],
      [8841, 'C+G', '/opt/google/chrome/chrome'],
    ])
    expect(assessGpu(merge({index: 0, busId: ada.busId}, ada)).status).toBe('OK')
  })

  it('418 without a DOCTYPE: bus id from <gpu id>, no power reading, every ECC and retired-pages field N/A', () => {
    const gpus = parseNvidiaSmiXml(readLocalFixture('q-x-quadro-418-no-doctype-ecc-na.xml')).gpus
    expect(gpus.map((g) => [g.busId, g.temperatureC, g.slowdownTempC, g.powerDrawW, g.powerLimitW, g.ecc, g.retiredPages, g.throttleReasons])).toEqual([
      ['00000000:02:00.0', 34, 100, undefined, undefined, undefined, undefined, undefined],
      ['00000000:03:00.0', 31, 100, undefined, undefined, undefined, undefined, undefined],
    ])
  })
})

/** Edited copies of the hand-written fixtures: each failure rule reached through the -q -x parser. */
describe('edited copies of hand-written -q -x fixtures', () => {
  const edit = (name: string, from: string, to: string) => {
    const xml = readLocalFixture(name)
    expect(xml).toContain(from)
    return xml.replace(from, to)
  }
  const judge = (xml: string) => {
    const [gpu] = parseNvidiaSmiXml(xml).gpus
    return assessGpu(merge({index: 0, busId: gpu.busId}, gpu))
  }
  const ada = 'q-x-rtx-ada-v13-healthy.xml'

  it('thermal slowdown active (v13 element names): WARNING', () => {
    const xml = edit(ada, '<clocks_event_reason_hw_thermal_slowdown>Not Active<', '<clocks_event_reason_hw_thermal_slowdown>Active<')
    expect(judge(xml)).toMatchObject({status: 'WARNING', findings: [{code: 'clocks-slowed', text: 'clocks slowed: hw_thermal_slowdown'}]})
  })

  it('thermal slowdown on the old element names (v11): WARNING', () => {
    const xml = edit('q-x-t4-v11-throttle-names.xml', '<clocks_throttle_reason_sw_thermal_slowdown>Not Active<', '<clocks_throttle_reason_sw_thermal_slowdown>Active<')
    expect(judge(xml).findings.map((f) => f.text)).toEqual(['clocks slowed: sw_thermal_slowdown'])
  })

  it('row remapping pending: CRITICAL; a failed remap: CRITICAL', () => {
    expect(judge(edit(ada, '<remapped_row_pending>No<', '<remapped_row_pending>Yes<'))).toMatchObject({status: 'CRITICAL', findings: [{code: 'remap-pending'}]})
    expect(judge(edit(ada, '<remapped_row_failure>No<', '<remapped_row_failure>Yes<'))).toMatchObject({status: 'CRITICAL', findings: [{code: 'remap-failure'}]})
  })

  it('a recovery action other than None: CRITICAL', () => {
    const xml = edit(ada, '<gpu_recovery_action>None<', '<gpu_recovery_action>Drain and Reset<')
    expect(judge(xml)).toMatchObject({status: 'CRITICAL', findings: [{code: 'recovery-action', text: 'the driver recommends recovery action "Drain and Reset"'}]})
  })

  it('T.Limit headroom down to 5 °C: WARNING; to 0 °C: CRITICAL', () => {
    expect(judge(edit(ada, '<gpu_temp_tlimit>46 C<', '<gpu_temp_tlimit>5 C<'))).toMatchObject({status: 'WARNING', findings: [{code: 'temperature', text: 'T.Limit headroom 5°C (≤ 5°C)'}]})
    expect(judge(edit(ada, '<gpu_temp_tlimit>46 C<', '<gpu_temp_tlimit>0 C<')).status).toBe('CRITICAL')
  })

  it('A100: drain and reset recommended: CRITICAL; reset required alone: CRITICAL; within 5 °C of its 89 °C slowdown: WARNING, at it: CRITICAL', () => {
    const a100 = 'q-x-a100-v12-mig.xml'
    expect(judge(edit(a100, '<drain_and_reset_recommended>No<', '<drain_and_reset_recommended>Yes<')).findings.map((f) => f.code)).toEqual(['drain-and-reset'])
    expect(judge(edit(a100, '<reset_required>No<', '<reset_required>Yes<')).findings.map((f) => [f.status, f.text])).toEqual([['CRITICAL', 'the GPU needs a reset']])
    expect(judge(edit(a100, '<gpu_temp>31 C<', '<gpu_temp>85 C<'))).toMatchObject({status: 'WARNING', findings: [{code: 'temperature', text: 'hot: 85°C (≥ 84°C, slowdown at 89°C)'}]})
    expect(judge(edit(a100, '<gpu_temp>31 C<', '<gpu_temp>89 C<')).status).toBe('CRITICAL')
  })

  it('A100: HBM within 5 °C of its maximum: WARNING; uncorrected ECC since driver load: CRITICAL', () => {
    const a100 = 'q-x-a100-v12-mig.xml'
    expect(judge(edit(a100, '<memory_temp>40 C<', '<memory_temp>91 C<')).findings.map((f) => [f.status, f.text])).toEqual([['WARNING', 'memory at 91°C, near its 95°C maximum']])
    expect(judge(edit(a100, '<dram_uncorrectable>0</dram_uncorrectable>', '<dram_uncorrectable>2</dram_uncorrectable>')).findings.map((f) => [f.status, f.code])).toEqual([['CRITICAL', 'ecc-uncorrected']])
  })

  it('a GPU lost mid-read (`Unknown Error` in a value): CRITICAL, cannot be read', () => {
    const xml = edit(ada, '<gpu_temp>41 C<', '<gpu_temp>Unknown Error<')
    expect(judge(xml).findings).toEqual([{status: 'CRITICAL', code: 'unreadable', text: 'cannot be read: Unknown Error (gpu_temp)'}])
  })
})

noteMissingCaptures('nvidia-smi -q -x parser on real captures')

describe.skipIf(!haveCaptures)('parseNvidiaSmiXml on every real -q -x capture', () => {
  const captures = captureNames(/^nvidia-smi-q-x-.*\.xml$/)

  it('finds the seven XML captures', () => {
    expect(captures).toHaveLength(7)
  })

  it.each(captures)('%s: GPUs with bus id, uuid, name, memory, throttle reasons; nothing fails', (name) => {
    const report = parseNvidiaSmiXml(readCapture(name))
    expect(report.gpus.length).toBeGreaterThan(0)
    for (const gpu of report.gpus) {
      expect(gpu.busId).toMatch(/^[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.\d$/)
      expect(gpu.uuid).toMatch(/^GPU-/)
      expect(gpu.memoryTotalBytes).toBeGreaterThan(0)
      expect(gpu.throttleReasons).toBeInstanceOf(Array)
      expect(gpu.failure).toBeUndefined()
    }
  })

  it('schema versions v10-v13 from the DOCTYPE, none for 418; trimmed captures: count <gpu>, not attached_gpus', () => {
    const schemas = Object.fromEntries(captures.map((name) => [name.replace(/^nvidia-smi-q-x-/, ''), parseNvidiaSmiXml(readCapture(name)).schema]))
    expect(schemas).toEqual({
      'a100-sxm4-80gb-x4-mig-driver535.54.03.xml': 12,
      'quadro-p400-driver418.43.xml': undefined,
      'rtx2080ti-x2-driver410.73-ecc-na.xml': 10,
      'rtx3090-driver525.147.05.xml': 12,
      'rtx4000-sff-ada-driver595.84-schema-v13.xml': 13,
      'tesla-t4-driver515.105.01.xml': 11,
      'v100-sxm3-driver410.104-dbe-ecc-retired-pages.xml': 10,
    })
    const a100 = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-a100-sxm4-80gb-x4-mig-driver535.54.03.xml'))
    expect(a100.attachedGpus).toBe(4)
    expect(a100.gpus).toHaveLength(1)
  })

  it('V100 (410, v10): double-bit ECC volatile and aggregate, two retired pages with addresses, retirement pending', () => {
    const [v100] = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-v100-sxm3-driver410.104-dbe-ecc-retired-pages.xml')).gpus
    expect(v100).toMatchObject({
      name: 'Tesla V100-SXM3-32GB',
      ecc: {volatileCorrected: 1, volatileUncorrected: 1, aggregateCorrected: 291, aggregateUncorrected: 7627},
      retiredPages: {
        singleBit: {count: 0, pages: []},
        doubleBit: {
          count: 2,
          pages: [
            {address: '0x000000000044e99d', time: 'Wed Aug 21 23:34:06 2019'},
            {address: '0x00000000001d9963', time: 'Mon Aug 26 15:32:43 2019'},
          ],
        },
        pending: true,
      },
      slowdownTempC: 89,
      shutdownTempC: 92,
      maxOperatingTempC: 83,
      memoryTempC: 33,
      memoryMaxTempC: 85,
      powerDrawW: 50.6,
      powerLimitW: 350,
      throttleReasons: ['gpu_idle'],
    })
    // And the rules: uncorrected ECC since driver load and pages pending retirement, both drain-worthy.
    const health = assessGpu(merge({index: 0, busId: v100.busId}, v100))
    expect(health.status).toBe('CRITICAL')
    expect(health.findings.map((f) => f.code)).toEqual(['ecc-uncorrected', 'pages-pending'])
  })

  it('A100 MIG (535, v12): MIG devices do not leak into the GPU; reset status read; remapped rows N/A', () => {
    const [a100] = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-a100-sxm4-80gb-x4-mig-driver535.54.03.xml')).gpus
    expect(a100).toMatchObject({
      name: 'NVIDIA A100-SXM4-80GB',
      memoryTotalBytes: 81920 * MiB,
      memoryUsedBytes: 50 * MiB,
      resetRequired: false,
      drainAndResetRecommended: false,
      ecc: {volatileCorrected: 0, volatileUncorrected: 0, aggregateCorrected: 0, aggregateUncorrected: 0},
      slowdownTempC: 89,
      memoryTempC: 44,
      memoryMaxTempC: 95,
      powerDrawW: 67.03,
      powerLimitW: 500,
      processes: [],
    })
    expect(a100.remappedRows).toBeUndefined()
    expect(a100.utilizationPercent).toBeUndefined()
    expect(a100.tlimitMarginC).toBeUndefined()
  })

  it('RTX 3090 (525, v12) uses <clocks_throttle_reasons>; RTX 4000 Ada (595, v13) <clocks_event_reasons>, T.Limit-relative thresholds, recovery action', () => {
    const [rtx3090] = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-rtx3090-driver525.147.05.xml')).gpus
    expect(rtx3090).toMatchObject({name: 'NVIDIA GeForce RTX 3090', temperatureC: 37, slowdownTempC: 95, powerDrawW: 27.23, powerLimitW: 200})
    expect(rtx3090.ecc).toBeUndefined()
    const [ada] = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-rtx4000-sff-ada-driver595.84-schema-v13.xml')).gpus
    expect(ada).toMatchObject({
      name: 'NVIDIA RTX 4000 SFF Ada Generation',
      recoveryAction: 'None',
      throttleReasons: ['gpu_idle'],
      temperatureC: 38,
      tlimitMarginC: 49,
      slowdownTlimitC: -2,
      shutdownTlimitC: -7,
      powerDrawW: 8.81,
      powerLimitW: 70,
      remappedRows: {correctable: 0, uncorrectable: 0, pending: false, failure: false},
    })
    expect(ada.slowdownTempC).toBeUndefined()
    expect(ada.processes.map((p) => [p.pid, p.type, p.name])).toEqual([
      [1842, 'G', 'cosmic-comp'],
      [3190, 'G', '/usr/bin/code'],
      [4937, 'C', 'python'],
      [34626, 'C+G', '/usr/lib/chromium/chromium'],
    ])
    expect(assessGpu(merge({index: 0, busId: ada.busId}, ada)).status).toBe('OK')
  })

  it('T4 (515, v11): graphics and compute processes; Quadro P400 (418): no power reading; RTX 2080 Ti ×2: every ECC field N/A', () => {
    const [t4] = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-tesla-t4-driver515.105.01.xml')).gpus
    expect(t4.processes).toEqual([
      {pid: 675, type: 'G', name: '/usr/lib/xorg/Xorg', usedMemoryBytes: 22 * MiB},
      {pid: 5762, type: 'C', name: 'python', usedMemoryBytes: 1005 * MiB},
    ])
    expect(t4).toMatchObject({retiredPages: {pending: false}, slowdownTempC: 93, powerDrawW: 26.78})
    const [p400] = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-quadro-p400-driver418.43.xml')).gpus
    expect(p400).toMatchObject({name: 'Quadro P400', temperatureC: 33, slowdownTempC: 100})
    expect(p400.powerDrawW).toBeUndefined()
    expect(p400.ecc).toBeUndefined()
    const rtx2080 = parseNvidiaSmiXml(readCapture('nvidia-smi-q-x-rtx2080ti-x2-driver410.73-ecc-na.xml')).gpus
    expect(rtx2080.map((g) => [g.busId, g.temperatureC, g.ecc, g.retiredPages])).toEqual([
      ['00000000:02:00.0', 24, undefined, undefined],
      ['00000000:03:00.0', 24, undefined, undefined],
    ])
  })
})

/** Edited copies of real captures, made here (the captures stay where they are): states no capture shows. */
describe.skipIf(!haveCaptures)('edited copies of real captures', () => {
  const ada = () => readCapture('nvidia-smi-q-x-rtx4000-sff-ada-driver595.84-schema-v13.xml')
  const edit = (xml: string, from: string, to: string) => {
    expect(xml).toContain(from)
    return xml.replace(from, to)
  }
  const judge = (xml: string) => {
    const [gpu] = parseNvidiaSmiXml(xml).gpus
    return assessGpu(merge({index: 0, busId: gpu.busId}, gpu))
  }

  it('thermal slowdown active (RTX 4000 Ada, v13): WARNING', () => {
    const xml = edit(ada(), '<clocks_event_reason_hw_thermal_slowdown>Not Active<', '<clocks_event_reason_hw_thermal_slowdown>Active<')
    expect(judge(xml)).toMatchObject({status: 'WARNING', findings: [{code: 'clocks-slowed', text: 'clocks slowed: hw_thermal_slowdown'}]})
  })

  it('thermal slowdown on the old element names (RTX 3090, 525): WARNING', () => {
    const xml = edit(readCapture('nvidia-smi-q-x-rtx3090-driver525.147.05.xml'), '<clocks_throttle_reason_sw_thermal_slowdown>Not Active<', '<clocks_throttle_reason_sw_thermal_slowdown>Active<')
    expect(judge(xml).findings.map((f) => f.text)).toEqual(['clocks slowed: sw_thermal_slowdown'])
  })

  it('row remapping pending: CRITICAL', () => {
    const xml = edit(ada(), '<remapped_row_pending>No<', '<remapped_row_pending>Yes<')
    expect(judge(xml)).toMatchObject({status: 'CRITICAL', findings: [{code: 'remap-pending'}]})
  })

  it('a recovery action other than None: CRITICAL', () => {
    const xml = edit(ada(), '<gpu_recovery_action>None<', '<gpu_recovery_action>Drain and Reset<')
    expect(judge(xml)).toMatchObject({status: 'CRITICAL', findings: [{code: 'recovery-action', text: 'the driver recommends recovery action "Drain and Reset"'}]})
  })

  it('A100: drain and reset recommended: CRITICAL; temperature within 5 °C of its 89 °C slowdown: WARNING', () => {
    const a100 = readCapture('nvidia-smi-q-x-a100-sxm4-80gb-x4-mig-driver535.54.03.xml')
    expect(judge(edit(a100, '<drain_and_reset_recommended>No<', '<drain_and_reset_recommended>Yes<')).findings.map((f) => f.code)).toEqual(['drain-and-reset'])
    const hot = judge(edit(a100, '<gpu_temp>27 C<', '<gpu_temp>85 C<'))
    expect(hot).toMatchObject({status: 'WARNING', findings: [{code: 'temperature', text: 'hot: 85°C (≥ 84°C, slowdown at 89°C)'}]})
    expect(judge(edit(a100, '<gpu_temp>27 C<', '<gpu_temp>89 C<')).status).toBe('CRITICAL')
  })

  it('a GPU lost mid-read (`Unknown Error` in a value): CRITICAL, cannot be read', () => {
    const xml = edit(ada(), '<gpu_temp>38 C<', '<gpu_temp>Unknown Error<')
    expect(judge(xml).findings).toEqual([{status: 'CRITICAL', code: 'unreadable', text: 'cannot be read: Unknown Error (gpu_temp)'}])
  })
})

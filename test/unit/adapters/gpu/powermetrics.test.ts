import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ParseError} from '../../../../src/lib/core/errors.js'
import {GpuToolError} from '../../../../src/lib/adapters/gpu/errors.js'
import {parsePlist} from '../../../../src/lib/adapters/gpu/plist.js'
import {parsePowermetricsPlist, samplePowermetrics} from '../../../../src/lib/adapters/gpu/powermetrics.js'
import {haveCaptures, localFixturePath, noteMissingCaptures, readCapture, readLocalFixture} from '../../../fixtures/gpu/captures.js'

noteMissingCaptures('powermetrics parser on real captures')

describe.skipIf(!haveCaptures)('parsePowermetricsPlist on real captures (pumas)', () => {
  it('M1, macOS 13.3: nearly idle GPU at 715 MHz, 15 mW, despite the duplicate idle_ns key', () => {
    expect(parsePowermetricsPlist(readCapture('powermetrics-m1-macbookpro17_1-macos13.3.plist'))).toEqual({
      hwModel: 'MacBookPro17,1',
      gpuBusyPercent: 1.67,
      gpuFrequencyMhz: 714.836,
      gpuPowerMw: 15.3528,
      thermalPressure: 'Nominal',
    })
  })

  it('M1, second sample', () => {
    expect(parsePowermetricsPlist(readCapture('powermetrics-m1-macbookpro17_1-macos13.3-sample2.plist'))).toEqual({
      hwModel: 'MacBookPro17,1',
      gpuBusyPercent: 5.98,
      gpuFrequencyMhz: 715.009,
      gpuPowerMw: 19.0117,
      thermalPressure: 'Nominal',
    })
  })

  it('M2 Ultra, macOS 14.4: 94.6 % busy at 1361 MHz, 70.9 W (the commented-out duplicate is ignored)', () => {
    expect(parsePowermetricsPlist(readCapture('powermetrics-m2ultra-mac14_14-macos14.4.plist'))).toEqual({
      hwModel: 'Mac14,14',
      gpuBusyPercent: 94.63,
      gpuFrequencyMhz: 1360.85,
      gpuPowerMw: 70924.6,
      thermalPressure: 'Nominal',
    })
  })

  it('keeps the structure: CPU clusters, an array of dicts, booleans, dates', () => {
    const root = parsePlist(readCapture('powermetrics-m1-macbookpro17_1-macos13.3.plist')) as Record<string, any>
    expect(root).toMatchObject({is_delta: true, elapsed_ns: 2_019_178_750, kern_bootargs: '', timestamp: '2023-04-01T13:18:36Z'})
    expect(root.processor.clusters[0]).toMatchObject({name: 'E-Cluster', freq_hz: 1.02287e9, idle_ratio: 0.772993})
    expect(root.gpu.dvfm_states).toHaveLength(6)
  })
})

describe('parsePowermetricsPlist on hand-written samples', () => {
  it('NUL-separated samples: the last wins; without a processor dict power comes from gpu_energy over elapsed_ns', () => {
    const sample = parsePowermetricsPlist(readLocalFixture('powermetrics-gpu-thermal-two-samples.plist'))
    expect(sample).toMatchObject({hwModel: 'Mac14,6', gpuBusyPercent: 75, gpuFrequencyMhz: 1398, thermalPressure: 'Serious'})
    expect(sample.gpuPowerMw).toBeCloseTo(30_000, 6)
  })

  it('with the cpu_power sampler: power is processor.gpu_power, not gpu_energy over elapsed_ns; a commented-out duplicate key is ignored', () => {
    expect(parsePowermetricsPlist(readLocalFixture('powermetrics-cpu-gpu-thermal-processor.plist'))).toEqual({
      hwModel: 'MacBookPro18,3',
      gpuBusyPercent: 2.98,
      gpuFrequencyMhz: 388.9,
      gpuPowerMw: 20.4591,
      thermalPressure: 'Nominal',
    })
  })

  it('keeps the structure: CPU clusters, arrays of dicts, empty arrays and strings, booleans, dates', () => {
    const [sample] = readLocalFixture('powermetrics-cpu-gpu-thermal-processor.plist').split('\0')
    const root = parsePlist(sample) as Record<string, any>
    expect(root).toMatchObject({is_delta: true, elapsed_ns: 2_004_000_000, kern_bootargs: '', timestamp: '2025-03-14T09:20:31Z'})
    expect(root.processor.clusters[0]).toMatchObject({name: 'E-Cluster', freq_hz: 1.0284e9, idle_ratio: 0.78, dvfm_states_holes: [], cpus: [{cpu: 0, freq_hz: 9.72e8, idle_ratio: 0.81}]})
    expect(root.gpu.dvfm_states).toHaveLength(2)
    expect(root.gpu.idle_ratio).toBe(0.9702)
  })

  it('a last sample cut short falls back to the one before', () => {
    const whole = readLocalFixture('powermetrics-gpu-thermal-two-samples.plist')
    const [first] = whole.split('\0')
    expect(parsePowermetricsPlist(`${first}\0${first.slice(0, 600)}`)).toMatchObject({thermalPressure: 'Nominal', gpuBusyPercent: 1})
  })

  it.each([
    ['no output', '', /no sample/],
    ['only NULs and blanks', '\0\n\0', /no sample/],
    ['no gpu section', '<plist><dict><key>thermal_pressure</key><string>Nominal</string></dict></plist>', /no gpu section/],
    ['no thermal sampler', '<plist><dict><key>gpu</key><dict><key>freq_hz</key><real>389</real><key>idle_ratio</key><real>1</real></dict></dict></plist>', /thermal_pressure is missing/],
    ['nan idle ratio', '<plist><dict><key>thermal_pressure</key><string>Nominal</string><key>gpu</key><dict><key>freq_hz</key><real>389</real><key>idle_ratio</key><real>nan</real></dict></dict></plist>', /idle_ratio is missing/],
    ['broken XML', '<plist><dict><key>gpu</key><dict></plist>', /expected <key> in a dict/],
  ])('%s is a ParseError', (_, text, why) => {
    expect(() => parsePowermetricsPlist(text)).toThrowError(ParseError)
    expect(() => parsePowermetricsPlist(text)).toThrowError(why)
  })
})

describe('parsePlist', () => {
  it('decodes entities, keeps string whitespace, reads empty elements and the last of duplicate keys', () => {
    const xml = `<?xml version="1.0"?><!-- note --><plist version="1.0"><dict>
      <key>a &amp; b</key><string> x &lt;y&gt; &#65;&#x42; </string>
      <key>n</key><integer>-3</integer><key>n</key><integer>4</integer>
      <key>e</key><string/><key>f</key><false/><key>list</key><array><real>1.5e3</real><dict/><array/></array>
    </dict></plist>`
    expect(parsePlist(xml)).toEqual({'a & b': ' x <y> AB ', n: 4, e: '', f: false, list: [1500, {}, []]})
  })
})

describe('samplePowermetrics through a fake powermetrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cimops-powermetrics-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  function fake(name: string, body: string): string {
    const path = join(dir, name)
    writeFileSync(path, `#!/bin/sh\n${body}\n`)
    chmodSync(path, 0o755)
    return path
  }

  it('asks for one gpu_power,thermal plist sample with a short interval, and reads it', async () => {
    const argsFile = join(dir, 'args')
    const binary = fake('ok', `echo "$@" > '${argsFile}'\nexec cat '${localFixturePath('powermetrics-gpu-thermal-two-samples.plist')}'`)
    const sample = await samplePowermetrics({timeoutMs: 5000, binary})
    expect(sample).toMatchObject({thermalPressure: 'Serious', gpuBusyPercent: 75})
    expect(readFileSyncTrim(argsFile)).toBe('--samplers gpu_power,thermal -f plist -n 1 -i 1000')
  })

  it('refusing to run without root is a permission error whose hint says sudo', async () => {
    const binary = fake('notroot', `echo 'powermetrics must be invoked as the superuser' >&2\nexit 1`)
    const error = await samplePowermetrics({timeoutMs: 5000, binary}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(GpuToolError)
    expect(error).toMatchObject({kind: 'permission', system: 'powermetrics', exitCode: 1})
    expect((error as GpuToolError).hint).toMatch(/sudo/)
  })
})

function readFileSyncTrim(path: string): string {
  return readFileSync(path, 'utf8').trim()
}

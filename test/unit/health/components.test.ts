import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/core/errors.js'
import {selectComponents, selectsCheck} from '../../../src/lib/health/components.js'

describe('--component', () => {
  it('takes comma-separated lists as well as repeats', () => {
    expect(selectComponents(['nats,jetstream', 'consumers']).map((s) => s.component)).toEqual(['nats', 'jetstream', 'consumers'])
    expect(selectComponents([' nats , ', 'Stream']).map((s) => s.component)).toEqual(['nats', 'streams'])
  })

  it('selects cpu, memory and disk by the names the report gives them, within the system check', () => {
    const cpuAndDisk = selectComponents(['cpu,disk'])
    expect(selectsCheck(cpuAndDisk, 'system', 'cpu')).toBe(true)
    expect(selectsCheck(cpuAndDisk, 'system', 'disk:/var')).toBe(true)
    expect(selectsCheck(cpuAndDisk, 'system', 'memory')).toBe(false)
    expect(selectsCheck(cpuAndDisk, 'nats', 'nats')).toBe(false)
    const system = selectComponents(['system'])
    expect(['cpu', 'memory', 'disk:/'].every((name) => selectsCheck(system, 'system', name))).toBe(true)
    expect(selectsCheck([], 'gpu', 'gpu:0')).toBe(true)
  })

  it('refuses an unknown name with the known ones, exit 64', () => {
    const error = (() => {
      try {
        selectComponents(['nats,cpus'])
      } catch (error) {
        return error
      }
    })()
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).exit).toBe(64)
    expect((error as UsageError).line).toBe(
      'unknown --component "cpus": the checks are nats, jetstream, streams, consumers, replication, prometheus, alertmanager, system, cpu, memory, disk, gpu (repeat the flag or separate names with commas: --component nats,jetstream)',
    )
  })
})

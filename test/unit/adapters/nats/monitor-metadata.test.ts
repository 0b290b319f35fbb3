import {describe, expect, it} from 'vitest'

import {consumerMonitorMetadata, streamMonitorMetadata} from '../../../../src/lib/adapters/nats/monitor-metadata.js'

describe('io.nats.monitor.* metadata (natscli/jsm.go keys)', () => {
  it('finds nothing where the server keeps no metadata (2.9) or none of the keys is set', () => {
    expect(consumerMonitorMetadata(undefined)).toBeUndefined()
    expect(consumerMonitorMetadata({'_nats.level': '1', '_nats.ver': '2.15.1', 'io.nats.monitor.waiting-critical': '3'})).toBeUndefined()
    expect(streamMonitorMetadata({'io.nats.monitor.msgs-critical': '5'})).toBeUndefined()
  })

  it('reads the consumer keys cimops judges: a count and a jsm.go duration (seconds)', () => {
    expect(consumerMonitorMetadata({'io.nats.monitor.unprocessed-critical': '500', 'io.nats.monitor.last-delivery-critical': '1h30m'})).toEqual({
      thresholds: {unprocessedCritical: 500, lastDeliveryCritical: 5400},
      invalid: [],
    })
  })

  it.each([
    ['90s', 90],
    ['1.5d', 129_600],
    ['2w', 1_209_600],
    ['1M', 2_592_000],
    ['1y', 31_536_000],
    ['1Y', 31_536_000],
    ['1500ms', 1.5],
  ])('duration %s is %d seconds (jsm ParseDuration units)', (value, seconds) => {
    expect(streamMonitorMetadata({'io.nats.monitor.seen-critical': value})?.thresholds.seenCritical).toBeCloseTo(seconds, 6)
  })

  it('a value <= 0 turns the check off, as in natscli: as if the key were absent, not an error', () => {
    expect(consumerMonitorMetadata({'io.nats.monitor.unprocessed-critical': '-1', 'io.nats.monitor.last-delivery-critical': '0'})).toEqual({thresholds: {}, invalid: []})
    expect(streamMonitorMetadata({'io.nats.monitor.lag-critical': '0'})).toEqual({thresholds: {}, invalid: []})
  })

  it('names every value natscli could not read either, with what was expected', () => {
    expect(consumerMonitorMetadata({'io.nats.monitor.unprocessed-critical': 'many', 'io.nats.monitor.last-delivery-critical': '300'})).toEqual({
      thresholds: {},
      invalid: [
        {key: 'io.nats.monitor.unprocessed-critical', value: 'many', expected: 'a whole number'},
        {key: 'io.nats.monitor.last-delivery-critical', value: '300', expected: 'a duration such as 30s, 5m, 1h30m or 1d'},
      ],
    })
    // ParseUint takes no sign; Atoi no spaces or decimals.
    expect(streamMonitorMetadata({'io.nats.monitor.lag-critical': '+5'})?.invalid.map((i) => i.key)).toEqual(['io.nats.monitor.lag-critical'])
    expect(consumerMonitorMetadata({'io.nats.monitor.unprocessed-critical': ' 5'})?.invalid).toHaveLength(1)
    expect(consumerMonitorMetadata({'io.nats.monitor.unprocessed-critical': '2.5'})?.invalid).toHaveLength(1)
    expect(streamMonitorMetadata({'io.nats.monitor.seen-critical': '5 m'})?.invalid).toHaveLength(1)
  })
})

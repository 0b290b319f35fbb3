import {describe, expect, it} from 'vitest'

import {promotionDescription, promotionMetadata, readPromotionMarker} from '../../../../src/lib/adapters/nats/promotion-marker.js'

describe('promotion marker', () => {
  const at = new Date('2026-12-05T03:00:00.000Z')

  it('round-trips through metadata and through a description, domain and time included', () => {
    const origin = {stream: 'EVENTS', domain: 'primary', at}
    expect(readPromotionMarker(promotionMetadata(origin), undefined)).toEqual(origin)
    expect(readPromotionMarker(undefined, promotionDescription(origin))).toEqual(origin)
    expect(readPromotionMarker(promotionMetadata({stream: 'EVENTS'}), undefined)).toEqual({stream: 'EVENTS'})
  })

  it('reads nothing from a stream cimops did not promote', () => {
    expect(readPromotionMarker({'io.nats.monitor.lag-critical': '10'}, 'CIM events')).toBeUndefined()
    expect(readPromotionMarker(undefined, undefined)).toBeUndefined()
    expect(readPromotionMarker({'io.cimops.dr.promoted-from': 'two words'}, undefined)).toBeUndefined()
  })

  it('prefers metadata over a description', () => {
    expect(readPromotionMarker(promotionMetadata({stream: 'A', domain: 'x'}), promotionDescription({stream: 'B'}))?.stream).toBe('A')
  })
})

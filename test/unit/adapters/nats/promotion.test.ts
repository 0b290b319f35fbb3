import {describe, expect, it} from 'vitest'

import {domainOfApiPrefix, fencedSubjectsFor, fenceMarker, readFenceMarker} from '../../../../src/lib/adapters/nats/promotion.js'

describe('fence marker: what fencing took, readable back from metadata (2.10+) or the description (2.9)', () => {
  const subjects = ['cim.graph.>', 'cim.workflow.>']
  it('round-trips through metadata', () => {
    const marker = fenceMarker(subjects, {metadata: true})
    expect(readFenceMarker(marker.metadata, undefined)).toEqual(subjects)
  })
  it('round-trips through the description where the server keeps no metadata', () => {
    const marker = fenceMarker(subjects, {metadata: false})
    expect(marker.metadata).toBeUndefined()
    expect(readFenceMarker(undefined, marker.description)).toEqual(subjects)
  })
  it('an unfenced stream has none', () => {
    expect(readFenceMarker({other: 'x'}, 'CIM domain events')).toBeUndefined()
  })
  it('fenced subjects are outside cim.> (CIM never publishes there)', () => {
    expect(fencedSubjectsFor('EVENTS')).toEqual(['cimops.fenced.EVENTS.>'])
  })
})

describe('domainOfApiPrefix', () => {
  it('reads the domain of $JS.<domain>.API, none for the plain or a custom prefix', () => {
    expect(domainOfApiPrefix('$JS.primary.API')).toBe('primary')
    expect(domainOfApiPrefix('$JS.API')).toBeUndefined()
    expect(domainOfApiPrefix('custom.api')).toBeUndefined()
    expect(domainOfApiPrefix(undefined)).toBeUndefined()
  })
})

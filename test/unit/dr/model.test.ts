import {describe, expect, it} from 'vitest'

import {boundedBehind, findSplitBrains, linkVerdict, measuredBehind, type SiteStreams, uniqueSplitBrains} from '../../../src/lib/dr/model.js'
import {overlappingSubjects} from '../../../src/lib/dr/status.js'

const thresholds = {rpoWarnSeconds: 30, rpoCritSeconds: 300}
const at = (iso: string) => new Date(iso)

describe('seconds behind', () => {
  it('is the age of the first origin message the copy lacks, on the clock given (the origin\'s)', () => {
    expect(measuredBehind({originLastSeq: 120, copied: 100, firstMissing: at('2025-01-01T00:00:00Z'), now: at('2025-01-01T00:00:42.5Z')})).toEqual({messages: 20, seconds: 42.5, bound: false})
  })

  it('is 0 with nothing missing, and with only deleted sequences past the copy', () => {
    expect(measuredBehind({originLastSeq: 100, copied: 100, now: at('2025-01-01T00:00:00Z')})).toEqual({messages: 0, seconds: 0, bound: false})
    // A copy ahead (the origin was purged and refilled) is not behind.
    expect(measuredBehind({originLastSeq: 90, copied: 100, now: at('2025-01-01T00:00:00Z')})).toEqual({messages: 0, seconds: 0, bound: false})
    expect(measuredBehind({originLastSeq: 105, copied: 100, firstMissing: undefined, now: at('2025-01-01T00:00:00Z')})).toEqual({messages: 0, seconds: 0, bound: false})
  })

  it('never goes negative when the clocks disagree', () => {
    expect(measuredBehind({originLastSeq: 2, copied: 1, firstMissing: at('2025-01-01T00:00:01Z'), now: at('2025-01-01T00:00:00Z')}).seconds).toBe(0)
  })

  it('with the origin out of reach, is an upper bound: the last contact plus a heartbeat; unknown when never heard', () => {
    expect(boundedBehind(12.5)).toEqual({seconds: 13.5, bound: true})
    expect(boundedBehind(undefined)).toEqual({bound: true})
  })
})

describe('link verdict', () => {
  const link = {kind: 'mirror' as const, origin: 'EVENTS', activeSeconds: 0.5, originReachable: true}

  it('judges seconds behind against the RPO thresholds, at or above each', () => {
    expect(linkVerdict({...link, behind: {messages: 0, seconds: 0, bound: false}}, thresholds)).toEqual({status: 'OK', reason: 'in sync'})
    expect(linkVerdict({...link, behind: {messages: 3, seconds: 30, bound: false}}, thresholds)).toEqual({status: 'WARNING', reason: '3 messages, 30s behind >= 30s'})
    expect(linkVerdict({...link, behind: {messages: 9, seconds: 301, bound: false}}, thresholds)).toEqual({status: 'CRITICAL', reason: '9 messages, 5m1s behind >= 5m'})
  })

  it('an unreachable origin is judged on the bound and says so', () => {
    const verdict = linkVerdict({...link, activeSeconds: 40, originReachable: false, behind: boundedBehind(40)}, thresholds)
    expect(verdict).toEqual({status: 'WARNING', reason: 'origin unreachable, last contact 40s ago; up to 41s behind >= 30s'})
  })

  it('an error the server reports, a missing origin, and a mirror never heard from are CRITICAL whatever the seconds', () => {
    const fine = {messages: 0, seconds: 0, bound: false}
    expect(linkVerdict({...link, error: 'stream not found', behind: fine}, thresholds)).toEqual({status: 'CRITICAL', reason: 'the server reports: stream not found'})
    expect(linkVerdict({...link, originMissing: true, behind: {bound: false}}, thresholds).status).toBe('CRITICAL')
    // natscli shows -1 as 0s and its check passes it (§4): here it is never heard.
    expect(linkVerdict({...link, activeSeconds: undefined, behind: fine}, thresholds)).toEqual({status: 'CRITICAL', reason: 'never heard from EVENTS'})
  })
})

describe('split brain', () => {
  const primary: SiteStreams = {site: 'prod', domain: 'primary', streams: [{name: 'EVENTS', subjects: ['cim.graph.>', 'cim.workflow.>'], mirror: false}]}
  const drMirror: SiteStreams = {site: 'prod-dr', domain: 'dr', streams: [{name: 'EVENTS_DR', subjects: [], mirror: true}]}
  const drPromoted: SiteStreams = {
    site: 'prod-dr',
    domain: 'dr',
    streams: [{name: 'EVENTS_DR', subjects: ['cim.>'], mirror: false, promotedFrom: {stream: 'EVENTS', domain: 'primary'}}],
  }

  it('two writable streams on overlapping subjects at linked sites, naming both sites and streams', () => {
    const copy: SiteStreams = {site: 'prod-dr', domain: 'dr', streams: [{name: 'EVENTS_COPY', subjects: ['cim.>'], mirror: false}]}
    const [brain, ...rest] = findSplitBrains(copy, primary, true, overlappingSubjects)
    expect(rest).toEqual([])
    expect(brain).toMatchObject({a: {site: 'prod-dr', stream: 'EVENTS_COPY'}, b: {site: 'prod', stream: 'EVENTS'}, why: 'linked', subjects: ['cim.graph.>', 'cim.workflow.>']})
    expect(brain.summary).toBe('split brain: EVENTS_COPY at prod-dr and EVENTS at prod both take cim.graph.>, cim.workflow.> (the sites are linked, every publish is stored at both)')
  })

  it('a promoted stream whose origin still takes its subjects, even with the link down', () => {
    expect(findSplitBrains(drPromoted, primary, false, overlappingSubjects)).toEqual([expect.objectContaining({why: 'promoted', a: {site: 'prod-dr', domain: 'dr', stream: 'EVENTS_DR'}})])
    // Either side may find it.
    expect(findSplitBrains(primary, drPromoted, false, overlappingSubjects)).toHaveLength(1)
  })

  it('is not a mirror beside its origin, nor independent sites (no link, no promotion), nor one domain seen twice', () => {
    expect(findSplitBrains(drMirror, primary, true, overlappingSubjects)).toEqual([])
    const staging: SiteStreams = {site: 'staging', domain: 'staging', streams: [{name: 'EVENTS', subjects: ['cim.graph.>'], mirror: false}]}
    expect(findSplitBrains(staging, primary, false, overlappingSubjects)).toEqual([])
    expect(findSplitBrains({...primary, site: 'prod-again'}, primary, true, overlappingSubjects)).toEqual([])
    // A promotion from a stream of another domain does not tie it to this one.
    const otherOrigin: SiteStreams = {...drPromoted, streams: [{...drPromoted.streams[0], promotedFrom: {stream: 'EVENTS', domain: 'elsewhere'}}]}
    expect(findSplitBrains(otherOrigin, primary, false, overlappingSubjects)).toEqual([])
  })

  it('no overlap, no split brain', () => {
    const other: SiteStreams = {site: 'prod-dr', domain: 'dr', streams: [{name: 'AUDIT', subjects: ['audit.>'], mirror: false}]}
    expect(findSplitBrains(other, primary, true, overlappingSubjects)).toEqual([])
  })

  it('each pair once, whichever site found it', () => {
    const copy: SiteStreams = {site: 'prod-dr', domain: 'dr', streams: [{name: 'EVENTS_COPY', subjects: ['cim.>'], mirror: false}]}
    const found = [...findSplitBrains(primary, copy, true, overlappingSubjects), ...findSplitBrains(copy, {...primary, site: 'domain primary'}, true, overlappingSubjects)]
    expect(found).toHaveLength(2)
    expect(uniqueSplitBrains(found)).toEqual([found[0]])
  })
})

describe('overlapping subjects', () => {
  it('the narrower filter of each overlapping pair', () => {
    expect(overlappingSubjects(['cim.>'], ['cim.graph.>', 'audit.>'])).toEqual(['cim.graph.>'])
    expect(overlappingSubjects(['cim.*.created'], ['cim.graph.*'])).toEqual(['cim.graph.created'])
    expect(overlappingSubjects(['a.b'], ['a.c'])).toEqual([])
  })
})

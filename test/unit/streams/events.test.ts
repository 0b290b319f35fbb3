import {describe, expect, it} from 'vitest'

import {intersectSubjects, subjectIsSubset} from '../../../src/lib/adapters/nats/subjects.js'
import {serverFeatures} from '../../../src/lib/adapters/nats/versions.js'
import {UsageError} from '../../../src/lib/core/errors.js'
import {
  checkFilterSupport,
  checkReadSupport,
  eventFilters,
  formatEvent,
  narrowFilters,
  readLast,
  toEventRecord,
} from '../../../src/lib/streams/events.js'
import {NOW} from './fixtures.js'

describe('eventFilters: CIM subjects cim.<domain>.<aggregateType>.<aggregateId>.<eventType>', () => {
  it('maps --domain and --aggregate', () => {
    expect(eventFilters({})).toEqual([])
    expect(eventFilters({domain: 'graph'})).toEqual(['cim.graph.>'])
    expect(eventFilters({aggregate: 'wf-7'})).toEqual(['cim.*.*.wf-7.*'])
    expect(eventFilters({domain: 'workflow', aggregate: 'wf-7'})).toEqual(['cim.workflow.*.wf-7.*'])
    expect(eventFilters({subjects: ['cim.graph.>', 'cim.graph.>', 'cim.agent.*.*.Created']})).toEqual(['cim.graph.>', 'cim.agent.*.*.Created'])
  })

  it('refuses --subject with --domain, tokens with dots or wildcards, and malformed subjects', () => {
    expect(() => eventFilters({subjects: ['a.>'], domain: 'graph'})).toThrow(UsageError)
    expect(() => eventFilters({domain: 'graph.node'})).toThrow('invalid --domain "graph.node"')
    expect(() => eventFilters({aggregate: '*'})).toThrow(UsageError)
    for (const bad of ['a..b', 'a.>.b', 'a b', 'a.b*', '.a', 'a.']) expect(() => eventFilters({subjects: [bad]}), bad).toThrow(UsageError)
  })
})

describe('filters and server versions', () => {
  it('several filters need 2.10: a usage error on 2.9 saying so', () => {
    expect(() => checkFilterSupport(['a.>', 'b.>'], serverFeatures('2.9.10'))).toThrow(
      '2 subject filters given: several filters need nats-server >= 2.10.0; this server is 2.9.10',
    )
    expect(() => checkFilterSupport(['a.>', 'b.>'], serverFeatures('2.10.1'))).not.toThrow()
    expect(() => checkFilterSupport(['a.>'], serverFeatures('2.9.10'))).not.toThrow()
  })

  it('reading needs the consumers API of 2.9.4', () => {
    expect(() => checkReadSupport(serverFeatures('2.9.3'))).toThrow('this needs nats-server >= 2.9.4; this server is 2.9.3')
    expect(() => checkReadSupport(serverFeatures('2.9.10'))).not.toThrow()
  })

  it('subset and intersection of subject filters', () => {
    expect(subjectIsSubset('cim.graph.node.x.Added', 'cim.graph.>')).toBe(true)
    expect(subjectIsSubset('cim.graph.*.x.*', 'cim.graph.>')).toBe(true)
    expect(subjectIsSubset('cim.*.*.x.*', 'cim.graph.>')).toBe(false)
    expect(subjectIsSubset('cim.graph', 'cim.graph.>')).toBe(false)
    expect(subjectIsSubset('a.*', 'a.b')).toBe(false)
    expect(subjectIsSubset('a.b', 'a.*')).toBe(true)
    expect(intersectSubjects('cim.*.*.x.*', 'cim.graph.>')).toBe('cim.graph.*.x.*')
    expect(intersectSubjects('cim.*.node.>', 'cim.graph.>')).toBe('cim.graph.node.>')
    expect(intersectSubjects('cim.ops.>', 'cim.graph.>')).toBeUndefined()
    expect(intersectSubjects('a.>', 'a')).toBeUndefined()
    expect(intersectSubjects('a.*', 'a.b')).toBe('a.b')
  })

  it('a filter 2.9 would refuse (not within one stream subject) becomes its intersections with them', () => {
    const subjects = ['cim.graph.>', 'cim.workflow.>']
    expect(narrowFilters(['cim.*.*.wf-7.*'], subjects)).toEqual(['cim.graph.*.wf-7.*', 'cim.workflow.*.wf-7.*'])
    expect(narrowFilters(['cim.workflow.>'], subjects)).toEqual(['cim.workflow.>'])
    expect(narrowFilters(['cim.>'], subjects)).toEqual(['cim.>']) // covers a stream subject: valid as is
    expect(narrowFilters(['other.>'], subjects)).toEqual([])
    expect(narrowFilters(['x.>'], [])).toEqual(['x.>'])
  })
})

describe('readLast', () => {
  /** A stream of 1..1000 where the filter matches every seq divisible by `every`; records the windows read. */
  const reading = (every: number) => {
    const windows: number[] = []
    const read = async (startSeq: number, limit: number, keepLast: boolean) => {
      windows.push(startSeq)
      const all = []
      for (let seq = startSeq; seq <= 1000; seq++) if (seq % every === 0) all.push({seq, time: NOW, subject: 'x', headers: {}, data: new Uint8Array()})
      return {messages: keepLast ? all.slice(-limit) : all.slice(0, limit), seen: all.length}
    }
    return {read, windows}
  }

  it('without a filter or deletes reads exactly the last n', async () => {
    const {read, windows} = reading(1)
    const result = await readLast(10, {firstSeq: 1, lastSeq: 1000, deleted: 0}, [], read)
    expect(result.messages.map((m) => m.seq)).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1000])
    expect(windows).toEqual([991])
  })

  it('with a filter widens the window four times per round until it holds n matches', async () => {
    const {read, windows} = reading(50)
    const result = await readLast(5, {firstSeq: 1, lastSeq: 1000, deleted: 0}, ['x.>'], read)
    expect(result.messages.map((m) => m.seq)).toEqual([800, 850, 900, 950, 1000])
    expect(windows).toEqual([937, 745])
  })

  it('fewer matches than n in the whole stream: all of them, stopping at the first sequence', async () => {
    const {read, windows} = reading(400)
    const result = await readLast(10, {firstSeq: 1, lastSeq: 1000, deleted: 3}, [], read)
    expect(result.messages.map((m) => m.seq)).toEqual([400, 800])
    expect(windows.at(-1)).toBe(1)
  })
})

describe('event output', () => {
  const event = {
    seq: 42,
    time: new Date('2026-11-22T03:00:00.123Z'),
    subject: 'cim.graph.node.n1.NodeAdded',
    headers: {'Nats-Msg-Id': ['e-1'], 'X-Multi': ['a', 'b']},
    data: new TextEncoder().encode('{"id":"e-1","data":{"label":"x"}}'),
  }

  it('--json record: body parsed when JSON, else text; headers joined', () => {
    expect(toEventRecord(event)).toEqual({seq: 42, time: '2026-11-22T03:00:00.123Z', subject: 'cim.graph.node.n1.NodeAdded', headers: {'Nats-Msg-Id': 'e-1', 'X-Multi': 'a, b'}, data: {id: 'e-1', data: {label: 'x'}}})
    expect(toEventRecord({...event, data: new TextEncoder().encode('not json')}).data).toBe('not json')
  })

  it("text: natscli's header line, headers, blank line, pretty JSON", () => {
    expect(formatEvent(event)).toBe(
      ['[42] Subject: cim.graph.node.n1.NodeAdded Received: 2026-11-22T03:00:00.123Z', 'Nats-Msg-Id: e-1', 'X-Multi: a, b', '', '{', '  "id": "e-1",', '  "data": {', '    "label": "x"', '  }', '}', ''].join('\n'),
    )
  })
})

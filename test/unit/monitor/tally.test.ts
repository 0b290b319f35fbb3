import {describe, expect, it} from 'vitest'

import {DeliveryTally, errorOf, EventTally, MAX_DOMAINS, MAX_ERRORS_PER_EVENT_TYPE, MAX_EVENT_TYPES_PER_DOMAIN, OTHER, subjectPrefix, worstQueues} from '../../../src/lib/monitor/tally.js'

const encoder = new TextEncoder()
const message = (subject: string, body: unknown = {}) => ({subject, data: encoder.encode(typeof body === 'string' ? body : JSON.stringify(body))})
const kinds = (tally: EventTally) => Object.fromEntries(tally.kinds().map((k) => [`${k.domain}/${k.eventType}`, k.count]))
const failures = (tally: EventTally) =>
  Object.fromEntries(tally.kinds().flatMap((k) => [...(k.failed ?? [])].map(([error, count]) => [`${k.domain}/${k.eventType}/${error}`, count])))

describe('EventTally', () => {
  it('counts CIM events by domain and event type, and everything else as invalid by subject prefix', () => {
    const tally = new EventTally()
    for (const subject of [
      'cim.workflow.workflow.wf-1.StepCompleted',
      'cim.workflow.workflow.wf-2.StepCompleted',
      'cim.graph.node.n-1.NodeAdded',
      'cim.workflow.wf.StepCompleted',
      'cim.a.b.c.d.e',
      'other.a.b.c.d',
      'cim..b.c.d',
      'cim.a..c.d',
      'cim.a.b..d',
      'cim.a.b.c.',
      'cimx.a.b.c.d',
      'cim',
    ]) {
      tally.add(message(subject))
    }
    expect(kinds(tally)).toEqual({'workflow/StepCompleted': 2, 'graph/NodeAdded': 1})
    expect(tally.invalidCount()).toBe(9)
    expect(Object.fromEntries(tally.bySubjectPrefix())).toEqual({
      'cim.workflow': 3, // two events, and the four-token subject
      'cim.graph': 1,
      'cim.a': 4,
      'other.a': 1,
      'cim.': 1,
      'cimx.a': 1,
      cim: 1,
    })
  })

  it('counts an event whose type ends in Failed as failed too, by the error in its body', () => {
    const tally = new EventTally()
    tally.add(message('cim.workflow.workflow.wf-1.WorkflowFailed', {type: 'WorkflowFailed', data: {step: 3, error: 'upstream timeout'}}))
    tally.add(message('cim.workflow.workflow.wf-2.WorkflowFailed', {data: {error: 'upstream timeout'}}))
    tally.add(message('cim.workflow.workflow.wf-3.WorkflowFailed', {data: {errorType: 'Validation', error: 'field x is missing'}}))
    tally.add(message('cim.agent.agent.a-1.TaskFailed', 'not json'))
    tally.add(message('cim.agent.agent.a-1.TaskCompleted', {data: {error: 'ignored: not a failure'}}))
    expect(kinds(tally)).toEqual({'workflow/WorkflowFailed': 3, 'agent/TaskFailed': 1, 'agent/TaskCompleted': 1})
    expect(failures(tally)).toEqual({
      'workflow/WorkflowFailed/upstream_timeout': 2,
      'workflow/WorkflowFailed/Validation': 1,
      'agent/TaskFailed/unknown': 1,
    })
  })

  it('reads the error from data.errorType, data.error_type, data.error (string or object) or the envelope', () => {
    const error = (body: unknown) => errorOf(encoder.encode(JSON.stringify(body)))
    expect(error({data: {errorType: 'Timeout', error: 'x'}})).toBe('Timeout')
    expect(error({data: {error_type: 'gpu.oom'}})).toBe('gpu.oom')
    expect(error({data: {error: {code: 503, message: 'unavailable'}}})).toBe('503')
    expect(error({data: {error: {type: 'Conflict'}}})).toBe('Conflict')
    expect(error({error: 'broken pipe'})).toBe('broken_pipe')
    expect(error({data: {error: '  '}})).toBe('unknown')
    expect(error({data: {}})).toBe('unknown')
    expect(error([1, 2])).toBe('unknown')
    expect(error({data: {error: `${'x'.repeat(100)} "quoted" {label}`}})).toHaveLength(64)
    expect(error({data: {error: 'a "b" \\ c\nd'}})).toBe('a_b_c_d')
  })

  it('bounds the label values: domains, event types per domain, errors per event type', () => {
    const tally = new EventTally()
    for (let i = 0; i < MAX_DOMAINS + 5; i++) tally.add(message(`cim.d${i}.t.1.Happened`))
    for (let i = 0; i < MAX_EVENT_TYPES_PER_DOMAIN + 3; i++) tally.add(message(`cim.d0.t.1.Type${i}`))
    for (let i = 0; i < MAX_ERRORS_PER_EVENT_TYPE + 4; i++) tally.add(message('cim.d1.t.1.StepFailed', {data: {error: `e${i}`}}))
    const all = tally.kinds()
    expect(new Set(all.map((k) => k.domain)).size).toBe(MAX_DOMAINS + 1)
    expect(all.find((k) => k.domain === OTHER)).toMatchObject({eventType: OTHER, count: 5})
    expect(all.filter((k) => k.domain === 'd0')).toHaveLength(MAX_EVENT_TYPES_PER_DOMAIN + 1)
    expect(all.find((k) => k.domain === 'd0' && k.eventType === OTHER)?.count).toBe(4)
    const failed = all.find((k) => k.domain === 'd1' && k.eventType === 'StepFailed')!.failed!
    expect(failed.size).toBe(MAX_ERRORS_PER_EVENT_TYPE + 1)
    expect(failed.get(OTHER)).toBe(4)
    expect(tally.bySubjectPrefix().get(OTHER)).toBe(5)
  })
})

describe('subjectPrefix', () => {
  it('keeps the first two tokens of a subject or filter', () => {
    expect(subjectPrefix('cim.workflow.>')).toBe('cim.workflow')
    expect(subjectPrefix('cim.workflow.workflow.wf-1.StepCompleted')).toBe('cim.workflow')
    expect(subjectPrefix('cim.>')).toBe('cim.>')
    expect(subjectPrefix('cim.*.node.>')).toBe('cim.*')
    expect(subjectPrefix('>')).toBe('>')
    expect(subjectPrefix(undefined)).toBe('>')
    expect(subjectPrefix('orders')).toBe('orders')
  })
})

describe('DeliveryTally', () => {
  it('adds the growth of each consumer delivered sequence by filter prefix; the first refresh is the baseline', () => {
    const tally = new DeliveryTally()
    tally.observe(
      [
        {name: 'workflow-projection', filterSubjects: ['cim.workflow.>'], delivered: 100},
        {name: 'graph-projection', filterSubjects: ['cim.graph.>'], delivered: 50},
      ],
      true,
    )
    expect(Object.fromEntries(tally.bySubjectPrefix())).toEqual({})
    tally.observe(
      [
        {name: 'workflow-projection', filterSubjects: ['cim.workflow.>'], delivered: 130},
        {name: 'workflow-analytics', filterSubjects: ['cim.workflow.>'], delivered: 12}, // new since: all of it
        {name: 'graph-projection', filterSubjects: ['cim.graph.>'], delivered: 50},
        {name: 'everything', filterSubjects: [], delivered: 7},
      ],
      false,
    )
    expect(Object.fromEntries(tally.bySubjectPrefix())).toEqual({'cim.workflow': 42, '>': 7})
    // Recreated (its sequence went down): its new deliveries count; a consumer gone and back counts anew.
    tally.observe([{name: 'workflow-projection', filterSubjects: ['cim.workflow.>'], delivered: 5}], false)
    tally.observe([{name: 'graph-projection', filterSubjects: ['cim.graph.>', 'cim.graph.x'], delivered: 3}], false)
    expect(Object.fromEntries(tally.bySubjectPrefix())).toEqual({'cim.workflow': 47, '>': 7, 'cim.graph': 3})
  })

  it('from the start: the first refresh counts what was delivered before', () => {
    const tally = new DeliveryTally()
    tally.observe([{name: 'a-b', filterSubjects: ['cim.a.>', 'cim.b.>'], delivered: 9}], false)
    expect(Object.fromEntries(tally.bySubjectPrefix())).toEqual({'>': 9})
  })
})

describe('worstQueues', () => {
  it('takes, per domain, the depth and capacity of its most saturated projection', () => {
    const queues = worstQueues([
      {domain: 'workflow', ackPending: 12, maxAckPending: 1000},
      {domain: 'workflow', ackPending: 90, maxAckPending: 100},
      {domain: 'workflow', ackPending: 500, maxAckPending: 20_000},
      {domain: 'graph', ackPending: 0, maxAckPending: 1000},
      {domain: 'graph', ackPending: 0, maxAckPending: 500},
      {domain: 'agent', ackPending: 3},
    ])
    expect(Object.fromEntries(queues)).toEqual({
      workflow: {depth: 90, capacity: 100},
      graph: {depth: 0, capacity: 1000},
      agent: {depth: 3, capacity: Number.POSITIVE_INFINITY},
    })
  })
})

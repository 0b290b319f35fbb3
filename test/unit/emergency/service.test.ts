import {describe, expect, it} from 'vitest'

import {domainConsumers} from '../../../src/lib/domains/names.js'
import {type ConsumerBrief, supportsConsumerPause} from '../../../src/lib/emergency/model.js'
import {applyConsumerActions, emergencyMessage} from '../../../src/lib/emergency/service.js'

const consumers: ConsumerBrief[] = [
  {stream: 'EVENTS', name: 'orders-projection', durable: true, filterSubjects: ['cim.orders.>']},
  {stream: 'EVENTS', name: 'orders-search', durable: true, filterSubjects: []},
  {stream: 'EVENTS', name: 'billing-ledger', durable: true, filterSubjects: ['cim.orders.order.*.OrderPlaced', 'cim.orders.order.*.OrderPaid']},
  {stream: 'EVENTS', name: 'workflow-analytics', durable: true, filterSubjects: ['cim.workflow.>'], paused: true, pausedByStop: 'stop-1'},
  {stream: 'EVENTS', name: 'workflow-audit', durable: true, filterSubjects: ['cim.workflow.>'], paused: true},
  {stream: 'EVENTS', name: 'Xf8k_1', durable: false, filterSubjects: ['cim.orders.>']},
]

describe('emergency stop: what it can enforce', () => {
  it('gates consumer pause on the server version from INFO (2.11+)', () => {
    expect(supportsConsumerPause('2.9.10')).toBe(false)
    expect(supportsConsumerPause('2.10.22')).toBe(false)
    expect(supportsConsumerPause('2.11.0')).toBe(true)
    expect(supportsConsumerPause('2.11.0-RC.1')).toBe(true)
    expect(supportsConsumerPause('2.12.1')).toBe(true)
    expect(supportsConsumerPause('3.0.0')).toBe(true)
  })

  it("selects the domain's durable consumers by name prefix or filter subjects", () => {
    expect(domainConsumers(consumers, 'orders').map((c) => c.name)).toEqual(['billing-ledger', 'orders-projection', 'orders-search'])
    expect(domainConsumers(consumers, 'workflow').map((c) => c.name)).toEqual(['workflow-analytics', 'workflow-audit'])
    expect(domainConsumers(consumers, null)).toHaveLength(5)
  })

  it('pauses them on 2.11+, and only reports them on older servers', async () => {
    const calls: string[] = []
    const control = {
      pause: async (_s: string, name: string, until: Date, stopId: string) => {
        calls.push(`pause ${name} ${stopId}`)
        if (name === 'orders-search') throw new Error('consumer not found')
        return {pauseUntil: until.toISOString()}
      },
      resume: async (_s: string, name: string) => {
        calls.push(`resume ${name}`)
      },
    }
    const until = new Date('2027-11-22T00:00:00Z')
    const selected = domainConsumers(consumers, 'orders')
    const paused = await applyConsumerActions(control, 'stop', selected, {supported: true, dryRun: false, until, stopId: 'stop-2'})
    expect(paused.map((c) => [c.name, c.outcome])).toEqual([
      ['billing-ledger', 'paused'],
      ['orders-projection', 'paused'],
      ['orders-search', 'failed'],
    ])
    expect(paused[0].pauseUntil).toBe(until.toISOString())
    expect(calls).toContain('pause orders-projection stop-2')

    calls.length = 0
    const old = await applyConsumerActions(control, 'stop', selected, {supported: false, dryRun: false, until, stopId: 'stop-2'})
    expect(calls).toEqual([])
    expect(old.every((c) => c.outcome === 'not-paused')).toBe(true)
    const message = emergencyMessage(
      {action: 'stop', domain: 'orders', subject: 'cim.ops.emergency.stop', event: {} as never, dryRun: false, serverVersion: '2.9.10', consumerPause: 'unsupported', broadcastOnly: true, consumers: old},
      'EVENTS',
    )
    expect(message).toContain('Only the broadcast was possible: nats-server 2.9.10 cannot pause consumers (needs 2.11.0+)')
    expect(message).toContain('3 durable consumers on EVENTS keep receiving: billing-ledger, orders-projection, orders-search')

    const resumed = await applyConsumerActions(control, 'resume', domainConsumers(consumers, null), {supported: true, dryRun: false, until, stopId: 'stop-2'})
    expect(calls).toEqual(['resume workflow-analytics'])
    expect(resumed).toEqual([
      {stream: 'EVENTS', name: 'workflow-analytics', outcome: 'resumed'},
      {stream: 'EVENTS', name: 'workflow-audit', outcome: 'left-paused'},
    ])

    calls.length = 0
    const workflow = await applyConsumerActions(control, 'stop', domainConsumers(consumers, 'workflow'), {supported: true, dryRun: false, until, stopId: 'stop-2'})
    expect(calls).toEqual(['pause workflow-analytics stop-2'])
    expect(workflow.map((c) => [c.name, c.outcome])).toEqual([
      ['workflow-analytics', 'paused'],
      ['workflow-audit', 'left-paused'],
    ])

    calls.length = 0
    const dry = await applyConsumerActions(control, 'stop', selected, {supported: true, dryRun: true, until, stopId: 'stop-2'})
    expect(calls).toEqual([])
    expect(dry.every((c) => c.outcome === 'would-pause')).toBe(true)
  })
})

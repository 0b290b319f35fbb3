import {describe, expect, it} from 'vitest'

import type {OpsLog, OpsPublishOptions, StoredOpsMessage} from '../../../src/lib/adapters/nats/ops-events.js'
import {TimeoutError} from '../../../src/lib/core/errors.js'
import {allocateIncidentId, counterSubject} from '../../../src/lib/incident/id.js'

/** The semantics of JetStream that allocation relies on: per-subject last sequence, expectations, msgID dedup. */
function memoryLog(options: {loseFirstAck?: boolean} = {}) {
  const messages: StoredOpsMessage[] = []
  const msgIds = new Map<string, number>()
  let publishes = 0
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
  const log: Pick<OpsLog, 'lastOnSubject' | 'atSequence' | 'publish'> = {
    async lastOnSubject(subject) {
      await tick()
      return messages.findLast((m) => m.subject === subject)
    },
    async atSequence(seq) {
      await tick()
      return messages.find((m) => m.seq === seq)
    },
    async publish(subject: string, body: unknown, opts: OpsPublishOptions = {}) {
      await tick()
      publishes++
      if (opts.msgID && msgIds.has(opts.msgID)) return {seq: msgIds.get(opts.msgID)!, duplicate: true}
      const last = messages.findLast((m) => m.subject === subject)?.seq ?? 0
      if (opts.expectLastSubjectSequence !== undefined && opts.expectLastSubjectSequence !== last) {
        throw Object.assign(new Error(`wrong last sequence: ${last}`), {code: 10071})
      }
      const seq = messages.length + 1
      messages.push({subject, seq, time: new Date().toISOString(), data: JSON.parse(JSON.stringify(body))})
      if (opts.msgID) msgIds.set(opts.msgID, seq)
      if (options.loseFirstAck && publishes === 1) throw new TimeoutError('nats', 'test', 100)
      return {seq, duplicate: false}
    },
  }
  return {log, messages, publishes: () => publishes}
}

const now = new Date('2026-11-22T03:00:00Z')

describe('incident id allocation', () => {
  it('gives concurrent declarers distinct, consecutive ids', async () => {
    const {log, publishes} = memoryLog()
    const results = await Promise.all(Array.from({length: 10}, (_, i) => allocateIncidentId(log, {now, declarationId: `d${i}`, sleep: async () => {}})))
    expect(results.map((r) => r.id).sort((a, b) => Number(a.split('-')[2]) - Number(b.split('-')[2]))).toEqual(Array.from({length: 10}, (_, i) => `INC-20261122-${i + 1}`))
    expect(results.some((r) => r.attempts > 1)).toBe(true)
    expect(publishes()).toBeGreaterThan(10)
  })

  it('counts per UTC day on its own subject, outside cim.ops.incident.>', async () => {
    const {log, messages} = memoryLog()
    await allocateIncidentId(log, {now, declarationId: 'a'})
    const next = await allocateIncidentId(log, {now: new Date('2026-11-23T00:00:01Z'), declarationId: 'b'})
    expect(next.id).toBe('INC-20261123-1')
    expect(messages.map((m) => m.subject)).toEqual([counterSubject('20261122'), counterSubject('20261123')])
    expect(counterSubject('20261122')).toBe('cim.ops.incident-ids.20261122')
  })

  it('keeps the id of a publish whose ack was lost (same msgID on retry)', async () => {
    const {log, messages} = memoryLog({loseFirstAck: true})
    const result = await allocateIncidentId(log, {now, declarationId: 'lost', sleep: async () => {}})
    expect(result.id).toBe('INC-20261122-1')
    expect(messages).toHaveLength(1)
  })

  it('gives up after a bounded number of lost races, saying why', async () => {
    const {log} = memoryLog()
    const rigged = {...log, publish: async () => Promise.reject(Object.assign(new Error('wrong last sequence: 3'), {code: 10071}))}
    await expect(allocateIncidentId(rigged, {now, declarationId: 'x', maxAttempts: 5, sleep: async () => {}})).rejects.toThrow(/5 attempts lost the race/)
  })

  it('does not retry other errors', async () => {
    const {log} = memoryLog()
    let calls = 0
    const broken = {...log, publish: async () => {
      calls++
      throw new Error('no stream')
    }}
    await expect(allocateIncidentId(broken, {now, declarationId: 'x', sleep: async () => {}})).rejects.toThrow('no stream')
    expect(calls).toBe(1)
  })
})

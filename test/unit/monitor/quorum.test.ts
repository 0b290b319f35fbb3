/** The monitor's quorum judgement (monitor/quorum.ts), from the leader's view as nats-server reports it. */
import {describe, expect, it} from 'vitest'

import type {ReplicaState, StreamSummary} from '../../../src/lib/adapters/nats/jetstream.js'
import {quorumLoss} from '../../../src/lib/monitor/quorum.js'

const leader: ReplicaState = {name: 'nats-1', leader: true, current: true, offline: false, lag: 0, activeSeconds: 0}
const follower = (name: string, activeSeconds: number, offline = false): ReplicaState => ({name, leader: false, current: true, offline, lag: 0, activeSeconds})

function stream(replicas: number, members: ReplicaState[]): StreamSummary {
  return {name: 'EVENTS', replicas, cluster: {leader: members.find((member) => member.leader)?.name, replicas: members}} as unknown as StreamSummary
}

describe('quorumLoss', () => {
  it('is silent for a stream that is not replicated, or whose followers answer (an idle stream is heard from every ~1s)', () => {
    expect(quorumLoss({name: 'EVENTS', replicas: 1} as unknown as StreamSummary)).toBeUndefined()
    expect(quorumLoss(stream(3, [leader, follower('nats-2', 1.8), follower('nats-3', 0.8)]))).toBeUndefined()
  })

  it('keeps the quorum with one of three replicas gone', () => {
    expect(quorumLoss(stream(3, [leader, follower('nats-2', 6.9), follower('nats-3', 0.4)]))).toBeUndefined()
    expect(quorumLoss(stream(3, [leader, follower('nats-2', 0, true), follower('nats-3', 0.4)]))).toBeUndefined()
  })

  // What a 2.9.10 leader answered 12 s after its two followers were killed, still calling them current.
  it('names the lost quorum while the old leader still answers as leader', () => {
    expect(quorumLoss(stream(3, [leader, follower('nats-2', 6.92), follower('nats-3', 6.92)]))).toBe(
      'stream EVENTS lost its quorum: 1 of 3 replicas answer its leader nats-1 (nats-2 silent for 7s, nats-3 silent for 7s)',
    )
    expect(quorumLoss(stream(3, [leader, follower('nats-2', 0, true), follower('nats-3', 12)]))).toBe(
      'stream EVENTS lost its quorum: 1 of 3 replicas answer its leader nats-1 (nats-2 offline, nats-3 silent for 12s)',
    )
  })

  it('counts a replica the leader does not list as lost, and a leaderless stream as unwritable', () => {
    expect(quorumLoss(stream(5, [leader, follower('nats-2', 1), follower('nats-3', 9)]))).toMatch(/^stream EVENTS lost its quorum: 2 of 5 replicas answer/)
    expect(quorumLoss(stream(3, [follower('nats-2', 1), follower('nats-3', 1)]))).toBe('stream EVENTS has no leader')
  })
})

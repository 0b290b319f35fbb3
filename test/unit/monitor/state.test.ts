/** The monitor's connection states (monitor/state.ts): what each event does, and what the metric and /readyz call it. */
import {describe, expect, it} from 'vitest'

import type {NatsConnection} from '../../../src/lib/adapters/nats/connection.js'
import {connectionState, INITIAL_STATE, type JetStreamLink, type MonitorEvent, type MonitorState, transition} from '../../../src/lib/monitor/state.js'

const nc = {} as NatsConnection
const link = {nc} as JetStreamLink

function walk(events: MonitorEvent[]): Array<[MonitorState['name'], string]> {
  let state = INITIAL_STATE
  return events.map((event) => {
    state = transition(state, event)
    return [state.name, connectionState(state)]
  })
}

describe('monitor connection states', () => {
  it('starts disconnected, retries, connects, opens JetStream, rides out an outage, and stops when closed', () => {
    expect(connectionState(INITIAL_STATE)).toBe('disconnected')
    expect(
      walk([
        {type: 'connect-failed'},
        {type: 'connected', nc},
        {type: 'jetstream', link},
        {type: 'disconnect'},
        {type: 'reconnecting'},
        {type: 'reconnect'},
        {type: 'closed'},
      ]),
    ).toEqual([
      ['connecting', 'reconnecting'],
      ['opening', 'connected'],
      ['subscribed', 'connected'],
      ['reconnecting', 'disconnected'],
      ['reconnecting', 'reconnecting'],
      ['subscribed', 'connected'],
      ['stopped', 'closed'],
    ])
  })

  it('a "reconnecting" while connected leaves it connected', () => {
    expect(walk([{type: 'connected', nc}, {type: 'jetstream', link}, {type: 'reconnecting'}])).toEqual([
      ['opening', 'connected'],
      ['subscribed', 'connected'],
      ['subscribed', 'connected'],
    ])
  })

  it('keeps the JetStream link through an outage: the refresh after the reconnect uses it', () => {
    const state = [{type: 'connected', nc}, {type: 'jetstream', link}, {type: 'disconnect'}, {type: 'reconnect'}].reduce<MonitorState>((s, e) => transition(s, e as MonitorEvent), INITIAL_STATE)
    expect(state).toEqual({name: 'subscribed', link})
  })

  it('stopped is final, and events out of turn change nothing', () => {
    const stopped = transition(INITIAL_STATE, {type: 'closed'})
    for (const event of [{type: 'connected', nc}, {type: 'reconnect'}, {type: 'disconnect'}] as MonitorEvent[]) expect(transition(stopped, event)).toBe(stopped)
    expect(transition(INITIAL_STATE, {type: 'jetstream', link})).toBe(INITIAL_STATE)
    expect(transition(INITIAL_STATE, {type: 'disconnect'})).toBe(INITIAL_STATE)
  })
})

/**
 * Where the monitor stands with NATS, as explicit states, and every change of state in one function.
 * Pure: the monitor acts on the state it enters (metrics, logs, refreshes); nothing here does I/O.
 *
 *   connecting ──connected──▶ opening ──jetstream──▶ subscribed ◀──reconnect── reconnecting
 *        ▲ └─connect-failed─┘                           └──────disconnect──────────▶ ▲
 *   (retrying)                                any state ──closed──▶ stopped
 */
import type {JetStreamClient, JetStreamManager, NatsConnection} from '../adapters/nats/connection.js'
import type {ConnectionState} from './metrics.js'

/** A connection with JetStream open: what refreshes and the follower use. */
export interface JetStreamLink {
  nc: NatsConnection
  jsm: JetStreamManager
  js: JetStreamClient
  /** The adapter's API prefix for the context's JetStream domain (undefined: no domain). */
  jsApiPrefix?: string
}

export type MonitorState =
  /** No connection yet; `retrying` once an attempt failed (NATS down, or not started yet). */
  | {name: 'connecting'; retrying: boolean}
  /** Connected, waiting for JetStream to answer (a server just started). */
  | {name: 'opening'; nc: NatsConnection}
  /** Connected with JetStream: state is read every refresh and the events stream followed. */
  | {name: 'subscribed'; link: JetStreamLink}
  /** The connection was lost and nats.js reconnects without limit; `disconnected` until it tries again. */
  | {name: 'reconnecting'; link: JetStreamLink; trying: boolean}
  /** The connection is closed for good (stopping, or closed by the server side). */
  | {name: 'stopped'}

export type MonitorEvent =
  | {type: 'connect-failed'}
  | {type: 'connected'; nc: NatsConnection}
  | {type: 'jetstream'; link: JetStreamLink}
  /** nats.js's status events once subscribed. */
  | {type: 'disconnect'}
  | {type: 'reconnecting'}
  | {type: 'reconnect'}
  | {type: 'closed'}

export const INITIAL_STATE: MonitorState = {name: 'connecting', retrying: false}

/** The state after `event`; events that do not apply to a state leave it as it is. */
export function transition(state: MonitorState, event: MonitorEvent): MonitorState {
  if (state.name === 'stopped') return state
  switch (event.type) {
    case 'connect-failed':
      return state.name === 'connecting' ? {name: 'connecting', retrying: true} : state
    case 'connected':
      return state.name === 'connecting' ? {name: 'opening', nc: event.nc} : state
    case 'jetstream':
      return state.name === 'opening' ? {name: 'subscribed', link: event.link} : state
    case 'disconnect':
      return 'link' in state ? {name: 'reconnecting', link: state.link, trying: false} : state
    case 'reconnecting':
      // Reported while connected (late, after the reconnect), it leaves the connection as it is.
      return state.name === 'reconnecting' ? {...state, trying: true} : state
    case 'reconnect':
      return 'link' in state ? {name: 'subscribed', link: state.link} : state
    case 'closed':
      return {name: 'stopped'}
  }
}

/** The connection as the cim_nats_connections metric and /readyz name it. */
export function connectionState(state: MonitorState): ConnectionState {
  switch (state.name) {
    case 'connecting':
      return state.retrying ? 'reconnecting' : 'disconnected'
    case 'opening':
    case 'subscribed':
      return 'connected'
    case 'reconnecting':
      return state.trying ? 'reconnecting' : 'disconnected'
    case 'stopped':
      return 'closed'
  }
}

/**
 * Emergency stop: a broadcast every CIM service honours (`cim.ops.emergency.stop`), plus what cimops can
 * enforce itself: pausing delivery to the domain's durable consumers on EVENTS, where the server
 * supports consumer pause (nats-server 2.11+). Pure parts here; service.ts does the I/O.
 */
import type {Actor} from '../core/actor.js'
import {SERVER_FEATURES, serverFeatures} from '../adapters/nats/versions.js'
import {UsageError} from '../core/errors.js'
import {isValidDomain} from '../domains/names.js'

export type {ConsumerBrief} from '../adapters/nats/consumer-control.js'

export const EMERGENCY_SUBJECT = {stop: 'cim.ops.emergency.stop', resume: 'cim.ops.emergency.resume'} as const
export type EmergencyAction = keyof typeof EMERGENCY_SUBJECT

/** Consumer pause/resume arrived in nats-server 2.11 (the one version table: adapters/nats/versions.ts). */
export const CONSUMER_PAUSE_MIN_VERSION = SERVER_FEATURES.consumerPause
/** A pause lasts until `cimops emergency resume`; the API needs a date, so: a year. */
export const PAUSE_FOR_MS = 365 * 24 * 60 * 60 * 1000

/** The broadcast body. `domain: null` means every domain. */
export interface EmergencyEvent {
  id: string
  type: 'EmergencyStopRequested' | 'EmergencyResumeRequested'
  domain: string | null
  reason?: string
  actor: Actor
  /** RFC 3339 */
  time: string
}

/** `left-paused`: paused by someone else than an emergency stop, so neither stop nor resume touches it. */
export type ConsumerOutcome = 'paused' | 'resumed' | 'not-paused' | 'left-paused' | 'would-pause' | 'would-resume' | 'failed'

export interface ConsumerAction {
  stream: string
  name: string
  outcome: ConsumerOutcome
  /** RFC 3339, for paused consumers. */
  pauseUntil?: string
  error?: string
}

/** The --domain of stop and resume: one subject token, or undefined for every domain. */
export function checkDomain(domain: string | undefined): void {
  if (domain !== undefined && !isValidDomain(domain)) {
    throw new UsageError(`invalid --domain "${domain}"`, 'expected one subject token: letters, digits, "-" and "_"')
  }
}

/** Gate by the version the server announced in INFO, never by trying and catching. */
export function supportsConsumerPause(serverVersion: string): boolean {
  return serverFeatures(serverVersion).has('consumerPause')
}

/** `cimops emergency stop|resume`: the broadcast on the ops log, and consumer pause where the server has it. */
import {randomUUID} from 'node:crypto'

import type {ConsumerControl} from '../adapters/nats/consumer-control.js'
import type {OpsLog} from '../adapters/nats/ops-events.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {resolveActor} from '../core/actor.js'
import type {ResolvedContext} from '../core/context-types.js'
import {redact} from '../core/redact.js'
import {domainConsumers} from '../domains/names.js'
import {
  type ConsumerAction,
  type ConsumerBrief,
  CONSUMER_PAUSE_MIN_VERSION,
  EMERGENCY_SUBJECT,
  type EmergencyAction,
  type EmergencyEvent,
  PAUSE_FOR_MS,
  supportsConsumerPause,
} from './model.js'

export interface EmergencyOptions {
  /** One domain, or null for all of them. */
  domain: string | null
  reason?: string
  actor?: string
  dryRun?: boolean
  now?: () => Date
  /** The command's session. */
  nats: NatsSession
}

export interface EmergencyResult {
  action: EmergencyAction
  domain: string | null
  subject: string
  /** The broadcast body (not published with --dry-run). */
  event: EmergencyEvent
  /** Where the broadcast was stored in the ops log; absent with --dry-run or when it could not be stored. */
  published?: {stream: string; seq: number}
  /** The broadcast went out but could not be stored in the ops log: why, and the fix. */
  notStored?: string
  dryRun: boolean
  serverVersion: string
  consumerPause: 'supported' | 'unsupported'
  /** The server cannot pause consumers: services must honour the broadcast themselves. */
  broadcastOnly: boolean
  /** The domain's durable consumers on the events stream, and what was done to each. */
  consumers: ConsumerAction[]
  message: string
}

export async function emergency(ctx: ResolvedContext, action: EmergencyAction, options: EmergencyOptions): Promise<EmergencyResult> {
  const [{broadcastOpsEvent}, {contextOpsLog}, {consumerControl}, {isCimopsError}] = await Promise.all([
    import('../adapters/nats/ops-events.js'),
    import('../audit/ops-log.js'),
    import('../adapters/nats/consumer-control.js'),
    import('../core/errors.js'),
  ])
  const now = (options.now ?? (() => new Date()))()
  const event: EmergencyEvent = redact({
    id: randomUUID(),
    type: action === 'stop' ? 'EmergencyStopRequested' : 'EmergencyResumeRequested',
    domain: options.domain,
    ...(options.reason ? {reason: options.reason} : {}),
    actor: resolveActor(options.actor),
    time: now.toISOString(),
  })
  const dryRun = options.dryRun === true
  const subject = EMERGENCY_SUBJECT[action]
  const {nats} = options
  const {nc} = await nats.connection()
  const serverVersion = (await nats.serverInfo()).version
  const supported = supportsConsumerPause(serverVersion)
  // The broadcast is a core NATS publish: it reaches every service whatever state JetStream and the ops log are in.
  const broadcast = () => (dryRun ? Promise.resolve() : broadcastOpsEvent(nc, subject, event, event.id, ctx.timeoutMs))
  if (action === 'stop') await broadcast()
  const jsm = await nats.jsm()
  const control = consumerControl(jsm, ctx.nats.servers.join(','), ctx.timeoutMs)
  const stream = ctx.streams.events
  const consumers = domainConsumers(await control.list(stream), options.domain)
  /**
   * The broadcast in the ops log: the stream that captured it holds it already, so it is looked up rather than
   * published again (subscribers would hear it twice). Only when no copy is found (the ops log was just created,
   * or another stop came right after) is it published with the same message id, which the stream stores once.
   */
  const store = async (): Promise<Pick<EmergencyResult, 'published' | 'notStored'>> => {
    if (dryRun) return {}
    try {
      const log = await contextOpsLog(nc, jsm, ctx, {create: true})
      const seq = log.location.state === 'found' && !log.location.created ? await storedCopy(log, subject, event.id) : undefined
      return {published: {stream: log.stream, seq: seq ?? (await log.publish(subject, event, {msgID: event.id})).seq}}
    } catch (error) {
      if (isCimopsError(error) && error.code === 'INTERRUPTED') throw error
      return {notStored: isCimopsError(error) ? error.line : String(error)}
    }
  }
  let actions: ConsumerAction[]
  if (action === 'stop') {
    actions = await applyConsumerActions(control, 'stop', consumers, {supported, dryRun, until: new Date(now.getTime() + PAUSE_FOR_MS), stopId: event.id})
  } else {
    // Deliveries flow again before services are told to pick up work.
    actions = await applyConsumerActions(control, 'resume', consumers, {supported, dryRun, until: now, stopId: event.id})
    await broadcast()
  }
  const stored = await store()
  const result: Omit<EmergencyResult, 'message'> = {
    action,
    domain: options.domain,
    subject,
    event,
    ...stored,
    dryRun,
    serverVersion,
    consumerPause: supported ? 'supported' : 'unsupported',
    broadcastOnly: !supported,
    consumers: actions,
  }
  return {...result, message: emergencyMessage(result, stream)}
}

/** A stream stores a captured core publish moments after it: looked for up to 5 times, waiting 0.75s in all. */
async function storedCopy(log: OpsLog, subject: string, id: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (attempt - 1)))
    const last = await log.lastOnSubject(subject)
    if (last && (last.data as {id?: unknown} | undefined)?.id === id) return last.seq
  }
  return undefined
}

/**
 * Pauses (stop) or resumes the consumers when the server supports it; otherwise reports them as not paused.
 * A stop marks what it pauses, and resume unpauses exactly the marked ones: a consumer an operator paused
 * for another reason is left paused by both.
 */
export async function applyConsumerActions(
  control: Pick<ConsumerControl, 'pause' | 'resume'>,
  action: EmergencyAction,
  consumers: readonly ConsumerBrief[],
  {supported, dryRun, until, stopId}: {supported: boolean; dryRun: boolean; until: Date; stopId: string},
): Promise<ConsumerAction[]> {
  const pausedElsewhere = (c: ConsumerBrief) => c.paused === true && c.pausedByStop === undefined
  const targets = action === 'stop' ? consumers.filter((c) => !pausedElsewhere(c)) : consumers.filter((c) => c.pausedByStop !== undefined)
  if (!supported) return targets.map((c) => ({stream: c.stream, name: c.name, outcome: 'not-paused'}))
  const leftPaused = consumers.filter(pausedElsewhere).map((c): ConsumerAction => ({stream: c.stream, name: c.name, outcome: 'left-paused'}))
  if (dryRun) return [...targets.map((c): ConsumerAction => ({stream: c.stream, name: c.name, outcome: action === 'stop' ? 'would-pause' : 'would-resume'})), ...leftPaused]
  const acted = await Promise.all(
    targets.map(async (c): Promise<ConsumerAction> => {
      try {
        if (action === 'stop') {
          const {pauseUntil} = await control.pause(c.stream, c.name, until, stopId)
          return {stream: c.stream, name: c.name, outcome: 'paused', pauseUntil: pauseUntil ?? until.toISOString()}
        }
        await control.resume(c.stream, c.name)
        return {stream: c.stream, name: c.name, outcome: 'resumed'}
      } catch (error) {
        return {stream: c.stream, name: c.name, outcome: 'failed', error: error instanceof Error ? error.message : String(error)}
      }
    }),
  )
  return [...acted, ...leftPaused]
}

export function emergencyMessage(result: Omit<EmergencyResult, 'message'>, stream: string): string {
  const text = consumerMessage(result, stream)
  return result.notStored ? `${text}. The broadcast went out but is not in the ops log: ${result.notStored}` : text
}

function consumerMessage(result: Omit<EmergencyResult, 'message'>, stream: string): string {
  const scope = result.domain === null ? 'all domains' : `domain ${result.domain}`
  const said = result.dryRun ? `Would broadcast ${result.subject} for ${scope}` : `Broadcast ${result.subject} for ${scope}`
  const names = (outcome: ConsumerAction['outcome']) => result.consumers.filter((c) => c.outcome === outcome).map((c) => c.name)
  const verb = result.action === 'stop' ? 'paused' : 'resumed'
  if (result.broadcastOnly) {
    const kept = result.consumers.map((c) => c.name)
    const consumers = kept.length === 0 ? '' : `; ${kept.length} durable consumer${kept.length === 1 ? '' : 's'} on ${stream} ${result.action === 'stop' ? 'keep receiving' : 'were never paused'}: ${kept.join(', ')}`
    return `${said}. Only the broadcast was possible: nats-server ${result.serverVersion} cannot ${result.action === 'stop' ? 'pause' : 'resume'} consumers (needs ${CONSUMER_PAUSE_MIN_VERSION}+)${consumers}${result.action === 'stop' ? `; services must honour ${result.subject} themselves` : ''}`
  }
  const done = names(result.dryRun ? (result.action === 'stop' ? 'would-pause' : 'would-resume') : verb)
  const failed = names('failed')
  const parts = [`${said}; ${result.dryRun ? `would have ${verb}` : verb} ${done.length} consumer${done.length === 1 ? '' : 's'} on ${stream}${done.length > 0 ? `: ${done.join(', ')}` : ''}`]
  if (failed.length > 0) parts.push(`FAILED to ${result.action === 'stop' ? 'pause' : 'resume'} ${failed.join(', ')}`)
  const leftPaused = names('left-paused')
  if (leftPaused.length > 0) parts.push(`left paused (not paused by an emergency stop): ${leftPaused.join(', ')}`)
  return parts.join('; ')
}

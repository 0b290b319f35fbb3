/**
 * A runbook run as events in the ops log (DESIGN.md "CIM conventions"): `cim.ops.runbook.<run-id>.started`,
 * one `.step-finished` per step (exit code, duration, output tail) and `.finished`, in CIM's event
 * envelope. Only when the ops log exists (a run does not create it), and never in the way: the
 * connection is made while the first step runs, and a log that cannot be reached is reported, not fatal.
 * Secrets never get here: parameters are already masked and output lines passed through the masker.
 */
import {randomBytes, randomUUID} from 'node:crypto'

import type {OpsLog} from '../adapters/nats/ops-events.js'
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import type {RunEvent} from './execute.js'

export const RUNBOOK_SUBJECT_PREFIX = 'cim.ops.runbook'

export type RunbookEventType = 'RunbookRunStarted' | 'RunbookStepFinished' | 'RunbookRunFinished'

export interface RunbookEvent {
  /** UUID; also the message id (deduplication). */
  id: string
  type: RunbookEventType
  domain: 'ops'
  aggregateType: 'runbook-run'
  /** The run id. */
  aggregateId: string
  occurredAt: string
  actor: {user: string; host: string}
  data: unknown
}

/** `20261122T083015Z-3fa9`: sortable, one subject token. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`
}

export function runbookSubject(runId: string, event: 'started' | 'step-finished' | 'finished'): string {
  return `${RUNBOOK_SUBJECT_PREFIX}.${runId}.${event}`
}

/** The ops events of a run event; output lines are not events (their tail is in step-finished). */
export function toOpsEvents(event: RunEvent, now: () => Date = () => new Date()): Array<{subject: string; body: RunbookEvent}> {
  const envelope = (type: RunbookEventType, runId: string, actor: RunbookEvent['actor'], data: unknown): RunbookEvent => ({
    id: randomUUID(),
    type,
    domain: 'ops',
    aggregateType: 'runbook-run',
    aggregateId: runId,
    occurredAt: now().toISOString(),
    actor,
    data,
  })
  switch (event.type) {
    case 'run-started': {
      const {run, steps} = event
      const data = {...run, steps: steps.map((step) => ({index: step.index, name: step.name, confirm: step.attributes.confirm}))}
      return [{subject: runbookSubject(run.runId, 'started'), body: envelope('RunbookRunStarted', run.runId, run.actor, data)}]
    }
    case 'run-finished': {
      const {record} = event
      const {steps: _steps, ...summary} = record
      return [{subject: runbookSubject(record.runId, 'finished'), body: envelope('RunbookRunFinished', record.runId, record.actor, {...summary, steps: record.steps.map(({outputTail: _tail, ...step}) => step)})}]
    }
    default:
      return []
  }
}

export interface RecorderResult {
  /** Every event was stored in the ops log. */
  recorded: boolean
  events: number
  stream?: string
  /** Why not. */
  reason?: string
}

export interface RunRecorder {
  handle(event: RunEvent): void
  /** Waits for what is in flight, at most `timeoutMs` more; the command closes its session. */
  close(): Promise<RecorderResult>
}

/**
 * Publishes to the context's ops log. Step-finished events need the run id and actor, which the
 * executor's step events do not carry: they are taken from the run-started event.
 */
export function opsRecorder(ctx: ResolvedContext, nats: NatsSession): RunRecorder {
  let run: {runId: string; actor: RunbookEvent['actor']} | undefined
  let published = 0
  let failure: string | undefined
  let opening: Promise<OpsLog | undefined> | undefined
  let queue: Promise<void> = Promise.resolve()

  const opsLog = () => (opening ??= openOpsLog(ctx, nats).catch((error: unknown) => {
    failure = describe(error)
    return undefined
  }))

  const enqueue = (items: Array<{subject: string; body: RunbookEvent}>) => {
    if (items.length === 0) return
    queue = queue.then(async () => {
      const log = await opsLog()
      if (!log) return
      for (const item of items) {
        if (failure) return
        try {
          await log.publish(item.subject, item.body, {msgID: item.body.id})
          published++
        } catch (error) {
          failure = describe(error)
        }
      }
    })
  }

  return {
    handle(event) {
      if (event.type === 'run-started') {
        run = {runId: event.run.runId, actor: event.run.actor}
        enqueue(toOpsEvents(event))
        return
      }
      if (event.type === 'step-finished' && run) {
        const body: RunbookEvent = {
          id: randomUUID(),
          type: 'RunbookStepFinished',
          domain: 'ops',
          aggregateType: 'runbook-run',
          aggregateId: run.runId,
          occurredAt: new Date().toISOString(),
          actor: run.actor,
          data: event.record,
        }
        enqueue([{subject: runbookSubject(run.runId, 'step-finished'), body}])
        return
      }
      enqueue(toOpsEvents(event))
    },
    async close() {
      const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ctx.timeoutMs).unref())
      const done = await Promise.race([queue.then(() => 'done' as const), deadline])
      if (done === 'late') failure ??= `the ops log did not answer within ${ctx.timeoutMs / 1000}s`
      const log = done === 'late' ? undefined : await opening
      return {recorded: !failure && published > 0, events: published, ...(log ? {stream: log.stream} : {}), ...(failure ? {reason: failure} : {})}
    },
  }
}

class NoOpsLog extends Error {}

async function openOpsLog(ctx: ResolvedContext, nats: NatsSession): Promise<OpsLog> {
  const {contextOpsLog} = await import('../audit/ops-log.js')
  const [{nc}, jsm] = await Promise.all([nats.connection(), nats.jsm()])
  // Wherever cim.ops.> is captured (an events stream on cim.> holds it too); a run never creates it.
  const log = await contextOpsLog(nc, jsm, ctx, {create: false})
  const {location} = log
  if (location.state === 'missing') throw new NoOpsLog(`there is no ops log (stream ${ctx.streams.ops}; it is created by the first incident or audited command)`)
  if (location.state === 'blocked') throw new NoOpsLog(`${location.reason} (${location.hint})`)
  return log
}

function describe(error: unknown): string {
  if (error instanceof Error && 'line' in error) return String((error as {line: string}).line)
  return error instanceof Error ? error.message : String(error)
}

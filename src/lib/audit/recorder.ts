import {readdir, readFile, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'
import * as z from 'zod'

import {stripUserinfo} from '../adapters/redact.js'
import {writeFileAtomic} from '../core/atomic-write.js'
import type {AuditHook, AuditOptions} from '../core/audit-hook.js'
import type {ResolvedContext} from '../core/context-types.js'
import {makeDirectories} from '../core/directories.js'
import {isCimopsError} from '../core/errors.js'
import {cimopsDataDir} from '../core/paths.js'
import {type AuditEvent, auditSubject, buildAuditEvent} from './event.js'
import {contextOpsLog} from './ops-log.js'

/**
 * Writes audit events to the ops log. When it cannot take them, they go to a local spool (one file per event,
 * with the environment it belongs to) that the next write to that same environment flushes first: no audit event
 * is silently lost, and none lands in another environment's ops log. Each event's id is its message id (deduplication), so a
 * flush retried after a partial success does not duplicate.
 */

/**
 * The environment an event belongs to: the context and the NATS servers it was meant for (no credentials).
 * What the servers are called is all there is to compare when the event could not even connect.
 */
export interface AuditTarget {
  context: string | null
  servers: string[]
  jsDomain: string | null
}

export interface SpooledAuditEvent {
  file: string
  target: AuditTarget
  event: AuditEvent
}

export interface RecordOptions extends AuditOptions {
  spoolDir?: string
}

export interface RecordResult {
  /** Published to the ops log now. */
  published: boolean
  /** The stream that holds the ops log, when published. */
  stream?: string
  /** Spooled events of this environment written along with it. */
  flushed: number
  /** Where it was spooled when it could not be published. */
  spooledTo?: string
  /** Why it could not be published. */
  error?: string
  /** How it can still reach an ops log, when it was spooled. */
  hint?: string
  /** No ops log can take it now or later (and it was not spooled); or the spool itself failed: the event is lost. */
  lost?: boolean
  /** Spool files that could not be read, moved aside to the quarantine folder. */
  quarantined: string[]
}

/** Publishing an audit event must not hold up the command for long. */
const AUDIT_TIMEOUT_CAP_MS = 2000
const QUARANTINE = 'quarantine'

export function auditSpoolDir(): string {
  return join(cimopsDataDir(), 'audit-spool')
}

function auditTarget(ctx: ResolvedContext): AuditTarget {
  return {context: ctx.name ?? null, servers: [...new Set(ctx.nats.servers.map((s) => stripUserinfo(s.trim()).toLowerCase()))].sort(), jsDomain: ctx.nats.jsDomain ?? null}
}

function sameTarget(a: AuditTarget, b: AuditTarget): boolean {
  return a.context === b.context && a.jsDomain === b.jsDomain && a.servers.join(',') === b.servers.join(',')
}

/** Not the ops log's fault, and it will not change by itself: spooling would only pretend the event is written later. */
class NoOpsLog extends Error {
  constructor(
    readonly why: string,
    readonly hint: string,
  ) {
    super(why)
  }
}

/** The event waits in the spool, on purpose, until the ops log of its environment can take it. */
class Deferred extends Error {
  constructor(
    readonly why: string,
    readonly hint: string,
  ) {
    super(why)
  }
}

/** The base command's audit hook (core/audit-hook.ts): the run's event, in its context, recorded or spooled. */
export const auditCommand: AuditHook = async (run, ctx, options) => {
  const event = buildAuditEvent(run)
  const recorded = {...event, ...(ctx?.name ? {context: ctx.name} : {})}
  return {event: recorded, ...(await recordAuditEvent(recorded, ctx, options))}
}

export async function recordAuditEvent(event: AuditEvent, ctx: ResolvedContext | undefined, options: RecordOptions = {}): Promise<RecordResult> {
  const spoolDir = options.spoolDir ?? auditSpoolDir()
  const quarantined: string[] = []
  // No environment to spool it for: nothing would ever flush it.
  if (!ctx) return {published: false, flushed: 0, error: 'the context could not be resolved', lost: true, quarantined}
  const target = auditTarget(ctx)
  const progress = {flushed: 0}
  let error: string
  let hint = 'the next mutating command against this context and these servers writes it'
  try {
    const stream = await publishWithSpool(event, ctx, target, spoolDir, options, {quarantined, progress})
    return {published: true, stream, flushed: progress.flushed, quarantined}
  } catch (failure) {
    if (failure instanceof NoOpsLog) return {published: false, flushed: 0, error: failure.why, hint: failure.hint, lost: true, quarantined}
    if (failure instanceof Deferred) {
      error = failure.why
      hint = failure.hint
    } else {
      error = isCimopsError(failure) ? failure.line : failure instanceof Error ? failure.message : String(failure)
    }
  }
  const file = join(spoolDir, `${event.at.replaceAll(':', '-')}-${event.id}.json`)
  try {
    await writeFileAtomic(file, `${JSON.stringify({target, event})}\n`, 0o600)
  } catch (spoolFailure) {
    const why = spoolFailure instanceof Error ? spoolFailure.message : String(spoolFailure)
    return {published: false, flushed: progress.flushed, error: `${error}; cannot spool it to ${spoolDir}: ${why}`, lost: true, quarantined}
  }
  return {published: false, flushed: progress.flushed, spooledTo: file, error, hint, quarantined}
}

const SpoolFile = z.object({
  target: z.object({context: z.string().nullable(), servers: z.array(z.string()).min(1), jsDomain: z.string().nullable()}),
  event: z.looseObject({id: z.string().min(1), command: z.string().min(1), at: z.string().min(1)}),
})

/** The spool's events, oldest first, and the files in it that are not spooled events (damaged, or of an older cimops). */
async function readSpool(spoolDir = auditSpoolDir()): Promise<{events: SpooledAuditEvent[]; unreadable: string[]}> {
  let names: string[]
  try {
    // Only complete files: writeFileAtomic writes to a hidden temp name first.
    names = (await readdir(spoolDir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()
  } catch {
    return {events: [], unreadable: []}
  }
  const events: SpooledAuditEvent[] = []
  const unreadable: string[] = []
  for (const name of names) {
    const file = join(spoolDir, name)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue // flushed by another cimops meanwhile
    }
    let parsed
    try {
      parsed = SpoolFile.safeParse(JSON.parse(text))
    } catch {
      parsed = undefined
    }
    if (parsed?.success) events.push({file, target: parsed.data.target, event: parsed.data.event as unknown as AuditEvent})
    else unreadable.push(file)
  }
  return {events, unreadable}
}

/** The spooled events waiting for this environment. */
export async function spooledEventsFor(ctx: ResolvedContext, spoolDir = auditSpoolDir()): Promise<SpooledAuditEvent[]> {
  const target = auditTarget(ctx)
  return (await readSpool(spoolDir)).events.filter((e) => sameTarget(e.target, target))
}

/** Moves unreadable spool files aside, so they are reported once instead of skipped forever. */
async function quarantine(spoolDir: string, files: string[]): Promise<string[]> {
  if (files.length === 0) return []
  const dir = join(spoolDir, QUARANTINE)
  await makeDirectories(dir, 0o700)
  const moved: string[] = []
  for (const file of files) {
    const to = join(dir, file.slice(spoolDir.length + 1))
    await rename(file, to).then(
      () => moved.push(to),
      () => {}, // gone meanwhile
    )
  }
  return moved
}

async function publishWithSpool(
  event: AuditEvent,
  ctx: ResolvedContext,
  target: AuditTarget,
  spoolDir: string,
  options: RecordOptions,
  /** Filled as it goes, so a failure half-way still reports what was done. */
  {quarantined, progress}: {quarantined: string[]; progress: {flushed: number}},
): Promise<string> {
  const timeoutMs = Math.min(ctx.timeoutMs, AUDIT_TIMEOUT_CAP_MS)
  const {withNats, jetstreamManagerFor} = await import('../adapters/nats/connection.js')
  return withNats(ctx.nats, {timeoutMs, name: 'cimops-audit'}, async (nc) => {
    const jsm = await jetstreamManagerFor(nc, ctx.nats, timeoutMs)
    const log = await contextOpsLog(nc, jsm, ctx, {create: options.createOpsLog !== false, timeoutMs})
    const {location} = log
    if (location.state === 'blocked') throw new NoOpsLog(location.reason, location.hint)
    if (location.state === 'missing') {
      throw new Deferred(`there is no ops log on this server yet, and this command does not create one (the backup set may hold it)`, `the next mutating command against this context and these servers writes it, once an ops log exists`)
    }
    if (options.avoidStreams?.includes(log.stream)) {
      throw new Deferred(`the ops log ${log.stream} is in the backup set and not restored yet`, `the next mutating command against this context and these servers writes it; restore ${log.stream} first if it is coming from the set`)
    }
    const spool = await readSpool(spoolDir)
    quarantined.push(...(await quarantine(spoolDir, spool.unreadable)))
    const backlog = spool.events.filter((e) => sameTarget(e.target, target))
    for (const spooled of backlog) {
      try {
        await log.publish(auditSubject(spooled.event.command), spooled.event, {msgID: spooled.event.id})
      } catch (failure) {
        const why = isCimopsError(failure) ? failure.line : failure instanceof Error ? failure.message : String(failure)
        throw new Error(`${why} (after writing ${progress.flushed} of ${backlog.length} spooled events)`)
      }
      await rm(spooled.file, {force: true})
      progress.flushed++
    }
    await log.publish(auditSubject(event.command), event, {msgID: event.id})
    return log.stream
  })
}

import {readdir, readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import type {ResolvedContext} from '../core/context-types.js'
import {cimopsDataDir} from '../core/paths.js'
import {type AuditEvent, auditSubject} from './event.js'
import {ensureOpsStream} from './ops-stream.js'

/**
 * Writes audit events to the ops stream. When NATS cannot take them, they go to a local spool
 * (one file per event) that the next successful write flushes first: no audit event is silently lost.
 * Each event's id is its Nats-Msg-Id, so a flush retried after a partial success does not duplicate.
 */

export interface RecordResult {
  /** Published to NATS now. */
  published: boolean
  /** Spooled events flushed along with it. */
  flushed: number
  /** Where it was spooled when NATS was unreachable. */
  spooledTo?: string
  /** Why it could not be published. */
  error?: string
}

/** Publishing an audit event must not hold up the command for long. */
const AUDIT_TIMEOUT_CAP_MS = 2000

export function auditSpoolDir(): string {
  return join(cimopsDataDir(), 'audit-spool')
}

export async function recordAuditEvent(event: AuditEvent, ctx: ResolvedContext | undefined, spoolDir = auditSpoolDir()): Promise<RecordResult> {
  try {
    if (!ctx) throw new Error('the context could not be resolved')
    const flushed = await publishWithSpool(event, ctx, spoolDir)
    return {published: true, flushed}
  } catch (error) {
    const file = join(spoolDir, `${event.at.replaceAll(':', '-')}-${event.id}.json`)
    await writeFileAtomic(file, `${JSON.stringify(event)}\n`, 0o600)
    return {published: false, flushed: 0, spooledTo: file, error: error instanceof Error && 'line' in error ? String((error as {line: string}).line) : String(error)}
  }
}

export async function spooledEvents(spoolDir = auditSpoolDir()): Promise<Array<{file: string; event: AuditEvent}>> {
  let names: string[]
  try {
    names = (await readdir(spoolDir)).filter((n) => n.endsWith('.json')).sort()
  } catch {
    return []
  }
  const events: Array<{file: string; event: AuditEvent}> = []
  for (const name of names) {
    const file = join(spoolDir, name)
    try {
      events.push({file, event: JSON.parse(await readFile(file, 'utf8')) as AuditEvent})
    } catch {
      // A file another process is still renaming into place, or damaged: leave it for the next flush.
    }
  }
  return events
}

async function publishWithSpool(event: AuditEvent, ctx: ResolvedContext, spoolDir: string): Promise<number> {
  const timeoutMs = Math.min(ctx.timeoutMs, AUDIT_TIMEOUT_CAP_MS)
  const {withNats, jetstreamManagerFor} = await import('../adapters/nats/connection.js')
  const {jetstream} = await import('@nats-io/jetstream')
  return withNats(ctx.nats, {timeoutMs, name: 'cimops-audit'}, async (nc) => {
    const jsm = await jetstreamManagerFor(nc, ctx.nats, timeoutMs)
    await ensureOpsStream(jsm, nc, ctx.streams.ops, ctx.nats.servers)
    const js = jetstream(nc, {domain: ctx.nats.jsDomain, timeout: timeoutMs})
    const backlog = await spooledEvents(spoolDir)
    for (const spooled of backlog) {
      await js.publish(auditSubject(spooled.event.command), JSON.stringify(spooled.event), {msgID: spooled.event.id})
      await rm(spooled.file, {force: true})
    }
    await js.publish(auditSubject(event.command), JSON.stringify(event), {msgID: event.id})
    return backlog.length
  })
}

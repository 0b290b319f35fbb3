/**
 * Whether a domain exists, so that `emergency stop --domain wokflow` (a typo) is refused instead of broadcasting
 * a stop no service listens for. Which domains are known: domains/discover.ts.
 */
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import {isCimopsError, UsageError} from '../core/errors.js'
import {knownDomains} from '../domains/discover.js'
import {domainConsumers} from '../domains/names.js'

/** Domains named in a refusal; the rest are counted. */
const LISTED = 20

/**
 * Exit 64 listing the known domains, unless `domain` is one of them on the context's events stream. When the
 * stream cannot be read, an emergency must not wait on it: returns why it could not check, for a note, and the
 * command goes ahead.
 */
export async function assertKnownDomain(ctx: ResolvedContext, nats: NatsSession, domain: string, forceHint: string): Promise<string | undefined> {
  let known: string[] | undefined
  try {
    known = await lookUp(ctx, nats, domain)
  } catch (error) {
    if (error instanceof UsageError) throw error
    return `could not check domain "${domain}" against ${ctx.streams.events} (${isCimopsError(error) ? error.line : String(error)}); going ahead`
  }
  if (known === undefined) return undefined
  const stream = ctx.streams.events
  const list = known.length === 0
    ? `no domain is known: ${stream} holds no cim.<domain>.> events and has no <domain>-<projection> consumers`
    : `known domains on ${stream}: ${known.slice(0, LISTED).join(', ')}${known.length > LISTED ? ` and ${known.length - LISTED} more` : ''}`
  throw new UsageError(`unknown domain "${domain}"`, list, {hint: `check the spelling; ${forceHint}`})
}

/** undefined when the domain is known; else the known ones. */
async function lookUp(ctx: ResolvedContext, nats: NatsSession, domain: string): Promise<string[] | undefined> {
  const adapter = await import('../adapters/nats/jetstream.js')
  const stream = ctx.streams.events
  const address = ctx.nats.servers.join(',')
  const jsm = await nats.jsm()
  const summary = await adapter.findStream(jsm, stream, address, ctx.timeoutMs)
  if (!summary) return []
  if (summary.subjects.some((subject) => subject.startsWith(`cim.${domain}.`))) return undefined
  const consumers = (await adapter.listConsumers(jsm, stream, address, ctx.timeoutMs)).map((c) => ({stream, name: c.name, durable: c.durable, filterSubjects: c.filterSubject ? [c.filterSubject] : []}))
  // Cheap first: a consumer of the domain, else messages under cim.<domain>.> (a filter the server applies).
  if (domainConsumers(consumers, domain).length > 0) return undefined
  const held = await adapter.streamSubjects(jsm, stream, `cim.${domain}.>`, address, ctx.timeoutMs)
  if (held && Object.keys(held.subjects).length > 0) return undefined
  return knownDomains(summary, consumers, (filter) => adapter.streamSubjects(jsm, stream, filter, address, ctx.timeoutMs))
}

/**
 * The wire side of replication status (reference/nats-sites-dr.md §2): a stream of another JetStream domain
 * read through that domain's API prefix (across the leaf link), the site's own domain, whether another
 * domain answers at all, and where a sourced stream got to (`Nats-Stream-Source` header of its messages).
 * A request nobody answers (the link is down: a timeout, or no responders) is "unreachable", not an error.
 */
import type {StreamInfo} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'
import * as z from 'zod'

import {ApiError} from '../../core/errors.js'
import {stripUserinfo} from '../redact.js'
import {jsApiPrefix, listStreamsReporting, type StreamSummary, toJetStreamError, toStreamSummary} from './jetstream.js'

/** A stream of another site as seen through its API prefix: read, missing there, or out of reach. */
export type RemoteStream = {reachable: true; stream?: StreamSummary} | {reachable: false; reason: string}

/** Every stream of another site, or why it could not be listed. */
export type RemoteListing = {reachable: true; streams: StreamSummary[]} | {reachable: false; reason: string}

const ApiReply = z.looseObject({
  error: z.object({code: z.number(), err_code: z.number().optional(), description: z.string()}).optional(),
})

const STREAM_NOT_FOUND = 10_059

/** STREAM.INFO of `stream` at `jsApiPrefix` (e.g. `$JS.primary.API`); undefined stream when it does not exist there. */
export async function readRemoteStream(nc: NatsConnection, stream: string, options: {jsApiPrefix: string; timeoutMs: number}): Promise<RemoteStream> {
  const address = stripUserinfo(nc.getServer())
  try {
    const reply = await nc.request(`${options.jsApiPrefix}.STREAM.INFO.${stream}`, '', {timeout: options.timeoutMs})
    const json = reply.json<Record<string, unknown>>()
    const {error} = ApiReply.parse(json)
    if (error?.err_code === STREAM_NOT_FOUND || (error?.code === 404 && error.err_code === undefined)) return {reachable: true}
    if (error) throw new ApiError('nats', address, `reading stream ${stream} at ${options.jsApiPrefix}: ${error.description}`)
    return {reachable: true, stream: toStreamSummary(json as unknown as StreamInfo)}
  } catch (error) {
    const reason = unansweredReason(error)
    if (reason) return {reachable: false, reason}
    throw toJetStreamError(error, address, options.timeoutMs)
  }
}

/** Every stream at `jsApiPrefix`, or unreachable. */
export async function listRemoteStreams(nc: NatsConnection, options: {jsApiPrefix: string; timeoutMs: number}): Promise<RemoteListing> {
  try {
    return {reachable: true, streams: (await listStreamsReporting(nc, options)).items}
  } catch (error) {
    const reason = unansweredReason(error)
    if (reason) return {reachable: false, reason}
    throw error
  }
}

const AccountInfoReply = z.looseObject({domain: z.string().optional()})

/** The JetStream domain of the account at `jsApiPrefix` ($JS.API.INFO); undefined when the server has none. */
export async function jetstreamDomain(nc: NatsConnection, options: {jsApiPrefix?: string; timeoutMs: number}): Promise<string | undefined> {
  const address = stripUserinfo(nc.getServer())
  try {
    const reply = await nc.request(`${options.jsApiPrefix ?? jsApiPrefix()}.INFO`, '', {timeout: options.timeoutMs})
    const json = reply.json<unknown>()
    const {error} = ApiReply.parse(json)
    if (error) throw new ApiError('nats', address, `JetStream account info: ${error.description}`)
    return AccountInfoReply.parse(json).domain || undefined
  } catch (error) {
    throw toJetStreamError(error, address, options.timeoutMs)
  }
}

/** The JetStream API prefix of a domain's mirror/source (`$JS.primary.API` -> `primary`); undefined for any other prefix. */
export function domainOfApiPrefix(prefix: string | undefined): string | undefined {
  return prefix ? /^\$JS\.([^.*>]+)\.API$/.exec(prefix)?.[1] : undefined
}

/**
 * Where a sourced stream got to in `origin`: the origin sequence in the `Nats-Stream-Source` header of the newest
 * of its messages that came from there (sources renumber, the header keeps the origin's). Looks back over at most
 * `lookBack` messages from `lastSeq`; undefined when none of them came from `origin`.
 */
export async function lastSourcedSequence(
  nc: NatsConnection,
  stream: string,
  origin: string,
  options: {lastSeq: number; firstSeq: number; lookBack: number; jsApiPrefix: string; timeoutMs: number},
): Promise<number | undefined> {
  const address = stripUserinfo(nc.getServer())
  const stop = Math.max(options.firstSeq, options.lastSeq - options.lookBack + 1)
  for (let seq = options.lastSeq; seq >= stop && seq > 0; seq--) {
    try {
      const reply = await nc.request(`${options.jsApiPrefix}.STREAM.MSG.GET.${stream}`, JSON.stringify({seq}), {timeout: options.timeoutMs})
      const parsed = MsgGetReply.parse(reply.json())
      if (parsed.error?.code === 404) continue
      if (parsed.error) throw new ApiError('nats', address, `reading ${stream} message ${seq}: ${parsed.error.description}`)
      const source = parseStreamSource(headerValue(parsed.message?.hdrs, STREAM_SOURCE_HEADER))
      if (source?.stream === origin) return source.seq
    } catch (error) {
      throw toJetStreamError(error, address, options.timeoutMs)
    }
  }
  return undefined
}

/** The header a sourcing stream adds to each message it copies. */
export const STREAM_SOURCE_HEADER = 'Nats-Stream-Source'

const MsgGetReply = z.object({
  message: z.object({hdrs: z.string().optional()}).optional(),
  error: z.object({code: z.number(), description: z.string()}).optional(),
})

/**
 * `Nats-Stream-Source`: origin stream (2.10+: `NAME:hash` for one of another domain) and origin sequence, then
 * on 2.10+ the filter and transform (`EVENTS 42`, `EVENTS:f7a2 42 cim.> `).
 */
export function parseStreamSource(value: string | undefined): {stream: string; seq: number} | undefined {
  const [name, seq] = value?.trim().split(/\s+/) ?? []
  const stream = name?.split(':')[0]
  const number = Number(seq)
  return stream && Number.isInteger(number) && number > 0 ? {stream, seq: number} : undefined
}

/** One header of a base64 NATS header block (`NATS/1.0\r\nKey: value\r\n...`), by case-insensitive name. */
export function headerValue(base64: string | undefined, name: string): string | undefined {
  if (!base64) return undefined
  const wanted = name.toLowerCase()
  for (const line of Buffer.from(base64, 'base64').toString('utf8').split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim()
  }
  return undefined
}

/**
 * Why nobody answered, when that is the failure: a timeout (an unreachable domain) or no responders (no
 * interest for the subject: the link is down). Undefined for any other error.
 */
export function unansweredReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const {code, cause} = error as {code?: unknown; cause?: unknown}
  if (error.name === 'TimeoutError' || code === 'TIMEOUT') return 'did not answer in time'
  if (error.name === 'NoResponders' || (cause instanceof Error && cause.name === 'NoResponders')) return 'no responders (no route to it)'
  return undefined
}

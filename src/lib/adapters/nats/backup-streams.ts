/**
 * The JetStream management API as backup and restore need it: plain requests to `$JS.API.*` with
 * lossless JSON, so a stream's configuration goes back to the server exactly as it came out
 * (see backup-json.ts), and error codes the services act on (not found, in use, memory storage).
 */
import type {NatsConnection} from '@nats-io/transport-node'
import * as z from 'zod'

import type {NatsSettings} from '../../core/context-types.js'
import {ApiError, TimeoutError, UnreachableError} from '../../core/errors.js'
import {stripUserinfo} from '../redact.js'
import {isJsonObject, type JsonObject, type JsonValue, parseJson, stringifyJson, toPlain} from './backup-json.js'
import {toNatsError} from './connection.js'
import {isStreamNotFound} from './jetstream.js'

const SYSTEM = 'nats'

/** JetStream error codes (err_code) the backup code reacts to. */
export const JsErrCode = {
  CONSUMER_NOT_FOUND: 10014,
  SNAPSHOT_FAILED: 10064,
  RESTORE_FAILED: 10062,
  STREAM_NAME_IN_USE: 10130,
  SUBJECTS_OVERLAP: 10065,
  STREAM_NAME_EXISTS: 10058,
} as const

/** A JetStream API call that the server answered with `{error}`. */
export class JsApiError extends ApiError {
  readonly errCode?: number
  constructor(address: string, why: string, options: {status?: number; errCode?: number; hint?: string} = {}) {
    super(SYSTEM, address, why, {status: options.status, hint: options.hint})
    this.errCode = options.errCode
  }
}

/** Where and how to call the JetStream API on one connection. */
export interface JsApi {
  nc: NatsConnection
  /** `$JS.API` or `$JS.<domain>.API`. */
  prefix: string
  /** Server address for errors, without credentials. */
  address: string
  timeoutMs: number
  /** For deliver subjects, when the account restricts inboxes. */
  inboxPrefix?: string
  jsDomain?: string
}

export function jsApiFor(nc: NatsConnection, settings: Pick<NatsSettings, 'jsDomain' | 'inboxPrefix'>, timeoutMs: number): JsApi {
  return {
    nc,
    prefix: settings.jsDomain ? `$JS.${settings.jsDomain}.API` : '$JS.API',
    address: stripUserinfo(nc.getServer()),
    timeoutMs,
    inboxPrefix: settings.inboxPrefix,
    jsDomain: settings.jsDomain,
  }
}

const ApiErrorShape = z.object({code: z.number(), err_code: z.number().optional(), description: z.string()})

/** One request to `<prefix>.<subject>`; the reply parsed losslessly; `{error}` becomes a JsApiError. */
export async function jsRequest(api: JsApi, subject: string, body?: string | Uint8Array, timeoutMs = api.timeoutMs): Promise<JsonObject> {
  let text: string
  try {
    const reply = await api.nc.request(`${api.prefix}.${subject}`, body ?? '', {timeout: timeoutMs})
    text = new TextDecoder().decode(reply.data)
  } catch (error) {
    throw natsFailure(error, api, timeoutMs, subject)
  }
  return parseApiReply(text, api.address, subject)
}

export function parseApiReply(text: string, address: string, what: string): JsonObject {
  let parsed: JsonValue
  try {
    parsed = parseJson(text)
  } catch (error) {
    throw new ApiError(SYSTEM, address, `${what}: the reply is not JSON (${(error as Error).message}): ${text.slice(0, 120)}`)
  }
  if (!isJsonObject(parsed)) throw new ApiError(SYSTEM, address, `${what}: the reply is not a JSON object`)
  if (parsed.error !== undefined) {
    const shape = ApiErrorShape.safeParse(toPlain(parsed.error))
    const err = shape.success ? shape.data : {code: 0, err_code: undefined, description: JSON.stringify(toPlain(parsed.error))}
    throw new JsApiError(address, `${err.description} (code ${err.code}${err.err_code ? `, err_code ${err.err_code}` : ''})`, {status: err.code, errCode: err.err_code})
  }
  return parsed
}

/** nats.js failures (timeout, no responders, connection lost) as typed errors naming the call. */
export function natsFailure(error: unknown, api: Pick<JsApi, 'address'>, timeoutMs: number, what: string): unknown {
  if (!(error instanceof Error)) return error
  const causeName = (error.cause as Error | undefined)?.name
  if (error.name === 'NoResponders' || causeName === 'NoResponders' || /no responders/i.test(error.message)) {
    return new ApiError(SYSTEM, api.address, `${what}: no responders (JetStream is not enabled, or the API is not reachable for this account)`)
  }
  if (['ClosedConnectionError', 'DrainingConnectionError'].includes(error.name) || causeName === 'ClosedConnectionError') {
    return new UnreachableError(SYSTEM, api.address, `the connection was lost during ${what}`, {hint: 'the server restarted or the network failed; run the command again'})
  }
  const mapped = toNatsError(error, api.address, timeoutMs)
  if (mapped instanceof TimeoutError) return new TimeoutError(SYSTEM, api.address, timeoutMs, {hint: `${what}: safe to retry; raise --timeout if the server is slow`})
  return mapped
}

export function isErrCode(error: unknown, code: number): boolean {
  return error instanceof JsApiError && error.errCode === code
}

const StreamView = z.object({
  config: z.object({
    name: z.string(),
    subjects: z.array(z.string()).optional(),
    storage: z.enum(['file', 'memory']),
    num_replicas: z.number().optional(),
    sealed: z.boolean().optional(),
    mirror: z.unknown().optional(),
    sources: z.array(z.unknown()).optional(),
  }),
  state: z.object({
    messages: z.number(),
    bytes: z.number(),
    first_seq: z.number(),
    first_ts: z.string().optional(),
    last_seq: z.number(),
    last_ts: z.string().optional(),
    consumer_count: z.number().optional(),
    num_deleted: z.number().optional(),
    num_subjects: z.number().optional(),
  }),
  cluster: z
    .object({
      name: z.string().optional(),
      leader: z.string().optional(),
      replicas: z.array(z.object({name: z.string(), current: z.boolean(), offline: z.boolean().optional(), lag: z.number().optional()})).optional(),
    })
    .optional(),
})

/** The fields of a stream that backup and restore reason about. */
export interface StreamFacts {
  name: string
  subjects: string[]
  storage: 'file' | 'memory'
  replicas: number
  sealed: boolean
  /** A mirror or a stream with sources: its messages come from elsewhere. */
  sourced: boolean
  messages: number
  bytes: number
  firstSeq: number
  lastSeq: number
  /** RFC 3339 from the server, absent when the stream is empty. */
  firstTime?: string
  lastTime?: string
  deleted: number
  consumerCount: number
  cluster?: {leader?: string; replicas: Array<{name: string; current: boolean; offline: boolean; lag: number}>}
}

export interface StreamDetail {
  facts: StreamFacts
  /** Exactly as the server sent them. */
  config: JsonObject
  state: JsonObject
}

const ZERO_TIME = /^0001-01-01T00:00:00Z$/

export function streamFacts(config: JsonObject, state: JsonObject, cluster?: JsonValue): StreamFacts {
  const view = StreamView.parse({config: toPlain(config), state: toPlain(state), cluster: cluster === undefined ? undefined : toPlain(cluster)})
  const time = (value?: string) => (value && !ZERO_TIME.test(value) && view.state.messages > 0 ? value : undefined)
  return {
    name: view.config.name,
    subjects: view.config.subjects ?? [],
    storage: view.config.storage,
    replicas: view.config.num_replicas ?? 1,
    sealed: view.config.sealed === true,
    sourced: view.config.mirror !== undefined && view.config.mirror !== null ? true : (view.config.sources?.length ?? 0) > 0,
    messages: view.state.messages,
    bytes: view.state.bytes,
    firstSeq: view.state.first_seq,
    lastSeq: view.state.last_seq,
    firstTime: time(view.state.first_ts),
    lastTime: time(view.state.last_ts),
    deleted: view.state.num_deleted ?? 0,
    consumerCount: view.state.consumer_count ?? 0,
    cluster: view.cluster
      ? {
          leader: view.cluster.leader,
          replicas: (view.cluster.replicas ?? []).map((peer) => ({name: peer.name, current: peer.current, offline: peer.offline === true, lag: peer.lag ?? 0})),
        }
      : undefined,
  }
}

/** The stream's configuration and state, or undefined when it does not exist. */
export async function streamDetail(api: JsApi, name: string): Promise<StreamDetail | undefined> {
  try {
    const info = await jsRequest(api, `STREAM.INFO.${name}`)
    const {config, state} = info
    if (!isJsonObject(config) || !isJsonObject(state)) throw new ApiError(SYSTEM, api.address, `stream info ${name}: no config or state in the reply`)
    return {facts: streamFacts(config, state, info.cluster), config, state}
  } catch (error) {
    if (isStreamNotFound(error)) return undefined
    throw error
  }
}

/** The sequences the stream no longer holds between its first and last (STREAM.INFO with deleted_details). */
export async function deletedSequences(api: JsApi, name: string): Promise<number[]> {
  const info = await jsRequest(api, `STREAM.INFO.${name}`, JSON.stringify({deleted_details: true}))
  const deleted = isJsonObject(info.state) ? info.state.deleted : undefined
  return Array.isArray(deleted) ? deleted.flatMap((seq) => (typeof seq === 'number' ? [seq] : [])) : []
}

const NamesPage = z.object({total: z.number(), offset: z.number(), limit: z.number(), streams: z.array(z.string()).nullable().optional()})

/** Every stream of the account, sorted by name. */
export async function streamNames(api: JsApi): Promise<string[]> {
  const names: string[] = []
  for (let offset = 0; ; ) {
    const page = NamesPage.parse(toPlain(await jsRequest(api, 'STREAM.NAMES', JSON.stringify({offset}))))
    const streams = page.streams ?? []
    names.push(...streams)
    offset += streams.length
    if (streams.length === 0 || offset >= page.total) break
  }
  return names.sort()
}

const ConsumersPage = z.object({
  total: z.number(),
  offset: z.number(),
  limit: z.number(),
  consumers: z
    .array(z.object({name: z.string(), config: z.object({durable_name: z.string().optional(), mem_storage: z.boolean().optional()}).passthrough()}))
    .nullable()
    .optional(),
})

export interface ConsumerFacts {
  name: string
  durable: boolean
  /** Memory-backed consumers are not in a snapshot. */
  memory: boolean
}

export async function streamConsumers(api: JsApi, stream: string): Promise<ConsumerFacts[]> {
  const consumers: ConsumerFacts[] = []
  for (let offset = 0; ; ) {
    const page = ConsumersPage.parse(toPlain(await jsRequest(api, `CONSUMER.LIST.${stream}`, JSON.stringify({offset}))))
    const list = page.consumers ?? []
    for (const consumer of list) consumers.push({name: consumer.name, durable: Boolean(consumer.config.durable_name), memory: consumer.config.mem_storage === true})
    offset += list.length
    if (list.length === 0 || offset >= page.total) break
  }
  return consumers.sort((a, b) => a.name.localeCompare(b.name))
}

/** Creates a stream from a configuration tree (sent verbatim). */
export async function createStream(api: JsApi, config: JsonObject): Promise<StreamDetail> {
  const name = String(config.name)
  const info = await jsRequest(api, `STREAM.CREATE.${name}`, stringifyJson(config))
  return detailOf(api, info, name)
}

export async function updateStream(api: JsApi, config: JsonObject): Promise<StreamDetail> {
  const name = String(config.name)
  const info = await jsRequest(api, `STREAM.UPDATE.${name}`, stringifyJson(config))
  return detailOf(api, info, name)
}

export async function deleteStream(api: JsApi, name: string): Promise<void> {
  await jsRequest(api, `STREAM.DELETE.${name}`)
}

function detailOf(api: JsApi, info: JsonObject, name: string): StreamDetail {
  const {config, state} = info
  if (!isJsonObject(config) || !isJsonObject(state)) throw new ApiError(SYSTEM, api.address, `stream ${name}: no config or state in the reply`)
  return {facts: streamFacts(config, state, info.cluster), config, state}
}

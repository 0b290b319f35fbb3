/**
 * A stream configuration taken on one server version, made fit for another before it is re-applied
 * (a restore's request, a logical restore's create). 2.12+ refuses an API request with a field it does
 * not know; older servers drop unknown fields silently. Stream templates were removed in 2.14, so a
 * config carrying `template_owner` is refused there. Server-added metadata (`_nats.ver`, `_nats.level`,
 * `_nats.req.level`, ADR-44) is the server's to set, never the client's to send back.
 */
import {cloneJson, isJsonObject, JsonNumber, type JsonObject, type JsonValue, stringifyJson} from './backup-json.js'
import {compareVersions, parseServerVersion, type ServerVersion} from './versions.js'

/** Top-level StreamConfig fields: the release that added each, and the one that removed it. */
const STREAM_FIELDS: Record<string, {since: string; removed?: string}> = {
  name: {since: '2.9.0'},
  description: {since: '2.9.0'},
  subjects: {since: '2.9.0'},
  retention: {since: '2.9.0'},
  max_consumers: {since: '2.9.0'},
  max_msgs: {since: '2.9.0'},
  max_bytes: {since: '2.9.0'},
  max_age: {since: '2.9.0'},
  max_msgs_per_subject: {since: '2.9.0'},
  max_msg_size: {since: '2.9.0'},
  discard: {since: '2.9.0'},
  discard_new_per_subject: {since: '2.9.0'},
  storage: {since: '2.9.0'},
  num_replicas: {since: '2.9.0'},
  no_ack: {since: '2.9.0'},
  template_owner: {since: '2.9.0', removed: '2.14.0'},
  duplicate_window: {since: '2.9.0'},
  placement: {since: '2.9.0'},
  mirror: {since: '2.9.0'},
  sources: {since: '2.9.0'},
  sealed: {since: '2.9.0'},
  deny_delete: {since: '2.9.0'},
  deny_purge: {since: '2.9.0'},
  allow_rollup_hdrs: {since: '2.9.0'},
  allow_direct: {since: '2.9.0'},
  mirror_direct: {since: '2.9.0'},
  republish: {since: '2.9.0'},
  metadata: {since: '2.10.0'},
  compression: {since: '2.10.0'},
  first_seq: {since: '2.10.0'},
  subject_transform: {since: '2.10.0'},
  consumer_limits: {since: '2.10.0'},
  allow_msg_ttl: {since: '2.11.0'},
  subject_delete_marker_ttl: {since: '2.11.0'},
  allow_msg_counter: {since: '2.12.0'},
  allow_atomic: {since: '2.12.0'},
  allow_msg_schedules: {since: '2.12.0'},
  persist_mode: {since: '2.12.0'},
  allow_batched: {since: '2.14.0'},
}
/** The newest release the table describes: a newer server may know fields the table does not. */
const DESCRIBED_UP_TO: ServerVersion = [2, 15, Number.MAX_SAFE_INTEGER]

const SERVER_METADATA = '_nats.'
/** Settings spelled out that mean what their absence means. */
const NAMED_DEFAULTS: Record<string, string> = {compression: 'none', persist_mode: 'default'}

export interface FittedConfig {
  config: JsonObject
  /** Fields left out that carried a setting (`allow_msg_ttl=true`): the restored stream lacks them. */
  dropped: string[]
}

/** The config without server-added metadata and without the fields a server of this version does not know. */
export function fitStreamConfig(config: JsonObject, serverVersion: string | undefined): FittedConfig {
  const target = parseServerVersion(serverVersion)
  const fitted = cloneJson(config) as JsonObject
  const {metadata} = fitted
  if (isJsonObject(metadata)) {
    for (const key of Object.keys(metadata)) if (key.startsWith(SERVER_METADATA)) delete metadata[key]
    if (Object.keys(metadata).length === 0) delete fitted.metadata
  }
  const dropped: string[] = []
  for (const [field, value] of Object.entries(fitted)) {
    if (knows(field, target)) continue
    delete fitted[field]
    if (carriesSetting(value) && value !== NAMED_DEFAULTS[field]) dropped.push(`${field}=${describe(value)}`)
  }
  return {config: fitted, dropped}
}

function knows(field: string, target: ServerVersion | undefined): boolean {
  // An unreadable version: send what we have (only 2.12+ refuses, and those report a version).
  if (!target) return true
  const known = STREAM_FIELDS[field]
  if (!known) return compareVersions(target, DESCRIBED_UP_TO) > 0
  if (compareVersions(target, parseServerVersion(known.since)!) < 0) return false
  return known.removed === undefined || compareVersions(target, parseServerVersion(known.removed)!) < 0
}

/** A value other than the zero value the server would assume without it. */
function carriesSetting(value: JsonValue): boolean {
  if (value instanceof JsonNumber) return Number(value) !== 0
  if (Array.isArray(value)) return value.length > 0
  if (isJsonObject(value)) return Object.keys(value).length > 0
  return value !== null && value !== false && value !== ''
}

function describe(value: JsonValue): string {
  return typeof value === 'string' ? value : stringifyJson(value)
}

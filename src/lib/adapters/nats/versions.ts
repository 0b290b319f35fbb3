/**
 * Server gates: the one table of what a JetStream feature needs. Servers of 2.11 and newer report
 * the JetStream API level they implement (`$JS.API.INFO` `api.level`, ADR-44); where a server has
 * one, features follow from it, since it says what the server does whatever its version string
 * claims (dev builds, backports). Older servers have none: their features follow from the version
 * in their INFO. Either way features are chosen up front, never by sending a newer field and catching
 * the error (2.9 silently drops unknown fields, so a catch would not even fire: a multi-filter
 * consumer would quietly filter nothing).
 */
import {compareVersions, parseServerVersion, type ServerVersion} from '../../core/version.js'

export {compareVersions, parseServerVersion, type ServerVersion}

export const SERVER_FEATURES = {
  /** `allow_direct` streams and `$JS.API.DIRECT.GET` (single message). */
  directGet: '2.9.0',
  /** STREAM.MSG.GET with `next_by_subj`: the first message at or after a sequence matching a filter. */
  nextBySubject: '2.9.0',
  /** The simplified consumers API of nats.js (`js.consumers.get`, ordered consumers). */
  consumersApi: '2.9.4',
  /** `filter_subjects` (several filters on one consumer); 2.9 has only `filter_subject`. */
  multipleFilters: '2.10.0',
  /** `metadata` on streams and consumers, which carries the required API level (`_nats.req.level`). */
  metadata: '2.10.0',
  /** `ts` (the server's clock) in StreamInfo/ConsumerInfo; older servers have none, so "ago" uses the local clock. */
  infoTimestamp: '2.10.0',
  /** DIRECT.GET with `batch` / `multi_last` / `start_time`. */
  batchDirectGet: '2.11.0',
  /** Consumer pause/resume and priority groups. */
  consumerPause: '2.11.0',
  /** A mirror turned into a writable stream by removing its `mirror` config (STREAM.UPDATE; 10055 before). */
  mirrorPromotion: '2.12.0',
  /** Fast-ingest batch publishing (ADR-50): streams with `allow_batched`, acknowledged once per flow window (API level 4). */
  fastBatch: '2.14.0',
  /** Restoring snapshot archives in the backup V2 format (NATSARC1, API level 5) that 2.15 writes by default. */
  backupArchiveV2: '2.15.0',
} as const

export type ServerFeature = keyof typeof SERVER_FEATURES

/**
 * The API level that brought each feature (2.11 = 1, 2.12 = 2, 2.14 = 4, 2.15 = 5); 0 for those
 * older than API levels, which every server that reports a level has.
 */
export const FEATURE_API_LEVELS: Record<ServerFeature, number> = {
  directGet: 0,
  nextBySubject: 0,
  consumersApi: 0,
  multipleFilters: 0,
  metadata: 0,
  infoTimestamp: 0,
  batchDirectGet: 1,
  consumerPause: 1,
  mirrorPromotion: 2,
  fastBatch: 4,
  backupArchiveV2: 5,
}

/**
 * The features a server supports: by its API level when it reports one, else by its version; an
 * unreadable version without a level supports only what 2.9.0 has.
 */
export interface ServerFeatures {
  version: string
  /** `$JS.API.INFO` `api.level`; undefined before 2.11. */
  apiLevel?: number
  has(feature: ServerFeature): boolean
  /** The release a feature needs, for messages such as "needs nats-server >= 2.10.0 (this is 2.9.10)". */
  requires(feature: ServerFeature): string
}

const BASELINE: ServerVersion = [2, 9, 0]

export function serverFeatures(version: string | undefined, apiLevel?: number): ServerFeatures {
  const parsed = parseServerVersion(version) ?? BASELINE
  return {
    version: version ?? 'unknown',
    ...(apiLevel === undefined ? {} : {apiLevel}),
    has: (feature) => (apiLevel === undefined ? compareVersions(parsed, parseServerVersion(SERVER_FEATURES[feature])!) >= 0 : apiLevel >= FEATURE_API_LEVELS[feature]),
    requires: (feature) => SERVER_FEATURES[feature],
  }
}

/** What serverApiLevel needs of a JetStream manager: its `$JS.API.INFO` request. */
interface AccountInfoSource {
  getAccountInfo(): Promise<{api: {level?: number}}>
}

/**
 * The JetStream API level the server reports (2.11+); undefined for older servers, and when the
 * account info cannot be read (features then follow from the version, which is never wrong, only coarser).
 */
export async function serverApiLevel(jsm: AccountInfoSource): Promise<number | undefined> {
  try {
    const level = (await jsm.getAccountInfo()).api.level
    return typeof level === 'number' ? level : undefined
  } catch {
    return undefined
  }
}

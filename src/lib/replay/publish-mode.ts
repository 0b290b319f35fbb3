/**
 * How a replay publishes to a NATS target: fast batches (nats-server 2.14+ and a target stream with
 * `allow_batched`, acknowledged once per flow window) or the pipelined path (one acknowledgement per event,
 * any server). `auto` takes fast batches where both allow them; `batch` refuses to run without them.
 */
import type {ServerFeatures} from '../adapters/nats/versions.js'
import {UsageError} from '../core/errors.js'

export type PublishModeChoice = 'auto' | 'batch' | 'async'
export const PUBLISH_MODES: readonly PublishModeChoice[] = ['auto', 'batch', 'async']

/** The mode a replay runs with, and why (shown by the dry run and the result). */
export interface PublishMode {
  mode: 'batch' | 'async'
  reason: string
}

/** What the server and the target say: the server's features, and whether the target's echoed config has `allow_batched`. */
export function choosePublishMode(requested: PublishModeChoice, features: Pick<ServerFeatures, 'has' | 'requires' | 'version' | 'apiLevel'>, target: {stream: string; allowBatched: boolean}): PublishMode {
  if (requested === 'async') return {mode: 'async', reason: 'asked for with --publish-mode async'}
  const server = `nats-server ${features.version}${features.apiLevel === undefined ? '' : ` (API level ${features.apiLevel})`}`
  if (!features.has('fastBatch')) {
    const why = `${server} has no fast batch publishing (it needs ${features.requires('fastBatch')} or newer)`
    if (requested === 'batch') throw new UsageError('--publish-mode batch cannot be used', why, {hint: 'use --publish-mode auto or async'})
    return {mode: 'async', reason: why}
  }
  if (!target.allowBatched) {
    const why = `target stream ${target.stream} does not allow batched publishing`
    if (requested === 'batch') throw new UsageError('--publish-mode batch cannot be used', why, {hint: 'add --allow-batched-target to set allow_batched on it'})
    return {mode: 'async', reason: `${why} (--allow-batched-target sets it)`}
  }
  return {mode: 'batch', reason: `target stream ${target.stream} allows batched publishing and ${server} supports it`}
}

/**
 * `cimops replay`: read a selection of events (from a stream, or a replay file) up to an end fixed at
 * the start, and republish them (to a prefix, another stream) or export them to a file. Every
 * republished event gets a deterministic message id (`<replay id>:<source seq>`), so a repeated or
 * resumed replay never duplicates within the target's duplicate window. A state file records the
 * plan and, every few thousand events, how far acknowledgements reach: `--resume ID` continues there.
 *
 * The steps, each in its own file: the source and what it selects (source.ts, tally.ts), the target
 * checked (target.ts), then a dry run's count, the export to a file (export.ts) or the publish with
 * its window and checkpoints (publish.ts, checkpoint.ts), and the result built once at the end (outcome.ts).
 */
import {checkUserFile} from '../core/atomic-write.js'
import {NotFoundError, UsageError} from '../core/errors.js'
import type {JetStreamSession, NatsSession} from '../adapters/nats/session.js'
import {exportToFile} from './export.js'
import type {ReplayOptions, ReplayPlan, ReplayResult, ReplayRun, ReplayState} from './model.js'
import {emptySelection, NOTHING_DELIVERED, replayResult} from './outcome.js'
import {publishToStream} from './publish.js'
import {COUNTING_SINK, openSource, type ReplaySource} from './source.js'
import {SelectionTally} from './tally.js'
import {describeTarget, sourceAt, type TargetSite} from './target.js'

export type {EventRef, ReplayOptions, ReplayPlan, ReplayProgress, ReplayResult, ReplayState, ReplayTarget} from './model.js'
export {loadReplayState, replayStateDir} from './checkpoint.js'
export {resumeHint} from './outcome.js'
export {PUBLISH_MODES, type PublishModeChoice} from './publish-mode.js'
export {findSourceStream, resolveRange} from './source.js'

/** Rough replay rate for the dry-run estimate (bench/replay on a 2-core machine shared with nats-server). */
export const ESTIMATED_RATE = 50_000
/** Publish acknowledgements outstanding at most, unless --max-in-flight says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 1024

/**
 * The sessions of a replay: the source's, and another site's for a target there (--to-context); without
 * `target`, the target is at the source's site.
 */
export interface ReplaySessions {
  source: NatsSession
  target?: {session: NatsSession; context: string}
}

/** Runs a plan (fresh or resumed). `dryRun` reads headers only and changes nothing. */
export async function runReplay(sessions: ReplaySessions, plan: ReplayPlan, dryRun: boolean, options: ReplayOptions = {}, resumeFrom?: ReplayState): Promise<ReplayResult> {
  // The command's sessions reconnect without limit: the reader and publisher give up on their own after faultToleranceMs.
  const source = 'stream' in plan.source ? await sessions.source.jetstream() : undefined
  const targetSession = sessions.target?.session ?? sessions.source
  const target = plan.target.kind === 'prefix' || plan.target.kind === 'stream' ? {session: await targetSession.jetstream(), context: sessions.target?.context} : undefined
  return replayWith(source, target, plan, dryRun, options, resumeFrom)
}

async function replayWith(
  session: JetStreamSession | undefined,
  targetSite: TargetSite | undefined,
  plan: ReplayPlan,
  dryRun: boolean,
  options: ReplayOptions,
  resumeFrom?: ReplayState,
): Promise<ReplayResult> {
  const startedAt = Date.now()
  const startSeq = resumeFrom ? Math.max(plan.fromSeq, resumeFrom.doneSeq + 1) : plan.fromSeq
  const run: ReplayRun = {plan, options, startSeq, startedAt, resumeFrom}
  const tally = new SelectionTally(plan, startSeq, dryRun)
  const source = await openSource(session, plan, startSeq, tally, options)
  if (dryRun) return dryRunResult(session, targetSite, run, source, tally)

  // Nothing selected: a clear error before anything is published.
  if ((await source.isEmpty()) && !resumeFrom) throw emptySelection(plan)
  if (plan.target.kind === 'file') {
    // Checked before the export reads an event: a path that cannot take it fails at once.
    const delivery = await exportToFile(await checkUserFile(plan.target.path, '--to-file'), run, source, tally)
    return replayResult({run, dryRun: false, selection: tally.summary(), target: {kind: 'file', file: plan.target.path}, delivery})
  }
  const {publishMode, ...target} = await describeTarget(targetSite!, plan, await sourceAt(session, targetSite!, source.stream), true)
  const {stateFile, ...delivery} = await publishToStream(targetSite!.session, target.stream!, publishMode.mode, run, source, tally)
  return replayResult({run, dryRun: false, selection: tally.summary(), target: {kind: plan.target.kind, context: (plan.target as {context?: string}).context, ...target}, publishMode, delivery, stateFile})
}

/** Reads headers only, counts, checks the target without creating it, and changes nothing. */
async function dryRunResult(session: JetStreamSession | undefined, targetSite: TargetSite | undefined, run: ReplayRun, source: ReplaySource, tally: SelectionTally): Promise<ReplayResult> {
  const {plan} = run
  await source.read(COUNTING_SINK, true)
  const estimatedSeconds = Math.round((tally.selected / ESTIMATED_RATE) * 100) / 100
  const {publishMode, ...target} = await dryRunTarget(session, targetSite, plan, source)
  return replayResult({run, dryRun: true, selection: tally.summary(), target, publishMode, delivery: NOTHING_DELIVERED, estimatedSeconds})
}

/** A dry run shows the selection whatever the target: what would stop the replay is its `problem`, not an error. */
async function dryRunTarget(session: JetStreamSession | undefined, targetSite: TargetSite | undefined, plan: ReplayPlan, source: ReplaySource): Promise<ReplayResult['target'] & Pick<ReplayResult, 'publishMode'>> {
  const {target} = plan
  if (target.kind === 'file') {
    const problem = await checkUserFile(target.path, '--to-file').then(
      () => undefined,
      (error: unknown) => (error instanceof UsageError ? error.line : Promise.reject(error)),
    )
    return {kind: 'file', file: target.path, ...(problem ? {problem} : {})}
  }
  if (target.kind === 'none' || !targetSite) return {kind: target.kind}
  try {
    return {kind: target.kind, context: target.context, ...(await describeTarget(targetSite, plan, await sourceAt(session, targetSite, source.stream), false))}
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof UsageError)) throw error
    return {kind: target.kind, context: target.context, ...(target.kind === 'prefix' ? {prefix: target.prefix} : {stream: target.stream}), problem: error.line}
  }
}

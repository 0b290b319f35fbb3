/** How a replay ends: the result it reports, built once from its parts, and what to tell the user when it stops short. */
import {UsageError} from '../core/errors.js'
import type {Delivery, ReplayPlan, ReplayResult, ReplayRun} from './model.js'
import type {SelectionSummary} from './tally.js'

export const NOTHING_DELIVERED: Delivery = {published: 0, duplicates: 0, bytes: 0, retries: 0}

export interface ReplayOutcome {
  run: ReplayRun
  dryRun: boolean
  selection: SelectionSummary
  target: ReplayResult['target']
  publishMode?: ReplayResult['publishMode']
  delivery: Delivery
  estimatedSeconds?: number
  stateFile?: string
}

export function replayResult({run, dryRun, selection, target, publishMode, delivery, estimatedSeconds, stateFile}: ReplayOutcome): ReplayResult {
  const {plan} = run
  const {selected, first, last, byDomain, byEventType} = selection
  const durationSeconds = (Date.now() - run.startedAt) / 1000
  return {
    replayId: plan.replayId,
    dryRun,
    resumed: run.resumeFrom !== undefined,
    source: {...('stream' in plan.source ? {stream: plan.source.stream, context: plan.source.context} : {file: plan.source.file}), fromSeq: run.startSeq, toSeq: plan.toSeq, filters: plan.filters, eventTypes: plan.eventTypes},
    target,
    ...(publishMode === undefined ? {} : {publishMode}),
    selected,
    ...delivery,
    first,
    last,
    durationSeconds,
    rate: durationSeconds > 0 ? Math.round(selected / durationSeconds) : selected,
    ...(byDomain ? {byDomain, byEventType} : {}),
    ...(estimatedSeconds === undefined ? {} : {estimatedSeconds}),
    ...(stateFile === undefined ? {} : {stateFile}),
  }
}

/**
 * How to continue a replay, with the settings a resume keeps from the state file (a flag given with
 * --resume overrides one): a throttled replay must not resume at full speed unnoticed.
 */
export function resumeHint(plan: Pick<ReplayPlan, 'replayId' | 'rate' | 'maxInFlight'>): string {
  const rate = plan.rate > 0 ? `${plan.rate}/s` : '0 (unlimited)'
  return `resume with: cimops replay --resume ${plan.replayId}; it keeps --rate ${rate} and --max-in-flight ${plan.maxInFlight} unless given again`
}

export function emptySelection(plan: ReplayPlan): UsageError {
  const what = plan.filters.length > 0 || plan.eventTypes.length > 0 ? ` matching ${[...plan.filters, ...plan.eventTypes.map((t) => `type ${t}`)].join(', ')}` : ''
  const where = 'stream' in plan.source ? `${plan.source.stream} sequences ${plan.fromSeq}-${plan.toSeq}` : plan.source.file
  return new UsageError('nothing to replay', `no event${what} in ${where}`, {hint: 'check the selection with --dry-run'})
}

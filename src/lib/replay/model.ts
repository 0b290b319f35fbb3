/** What a replay is asked to do, what it keeps in its state file, and what it reports: types only. */
import type {PublishMode, PublishModeChoice} from './publish-mode.js'
import type {SubjectMapping} from './selection.js'

/**
 * `none`: a dry run given no target, which only looks at the selection. `context`: the cimops context of another
 * site to publish at (--to-context); absent, the target is at the source's site.
 */
export type ReplayTarget =
  | {kind: 'prefix'; prefix: string; context?: string}
  | {kind: 'stream'; stream: string; createTarget: boolean; context?: string}
  | {kind: 'file'; path: string}
  | {kind: 'none'}

/** Everything needed to run (and resume) a replay: stored in the state file. */
export interface ReplayPlan {
  replayId: string
  createdAt: string
  /** `context`: the cimops context the stream was read at, when one was in use: a resume reads there again. */
  source: {stream: string; context?: string} | {file: string}
  /** The selection as asked (subject filters), applied client-side as well. */
  filters: string[]
  eventTypes: string[]
  /** Inclusive source sequence range, as --from-seq/--to-seq (a file: bounds on its line sequences). */
  fromSeq: number
  toSeq: number
  /** Time bounds, applied client-side to file sources. */
  since?: string
  until?: string
  target: ReplayTarget
  maps: SubjectMapping[]
  maxInFlight: number
  rate: number
  /** --publish-mode [absent in state files of older cimops: auto]. */
  publishMode?: PublishModeChoice
  /** --allow-batched-target: set `allow_batched` on an existing target stream that lacks it. */
  allowBatchedTarget?: boolean
}

export interface ReplayState extends ReplayPlan {
  status: 'running' | 'interrupted' | 'failed' | 'completed'
  /** Every selected event up to this source sequence is acknowledged by the target. */
  doneSeq: number
  updatedAt: string
  error?: string
}

export interface EventRef {
  seq: number
  subject: string
  time: string
}

export interface ReplayResult {
  replayId: string
  dryRun: boolean
  resumed: boolean
  /** `context`: the cimops context a stream was read at, when one was in use. */
  source: {stream?: string; context?: string; file?: string; fromSeq: number; toSeq: number; filters: string[]; eventTypes: string[]}
  /**
   * `context`: the cimops context a NATS target was published at, when one was in use (--to-context, else the
   * source's). `problem`: a dry run's target that the replay could not use (no stream captures it, ...), as the error it would give.
   * `reconfigured`: --allow-batched-target set `allow_batched` on it (a dry run: false, it would).
   */
  target: {kind: ReplayTarget['kind']; context?: string; stream?: string; prefix?: string; file?: string; created?: boolean; reconfigured?: boolean; problem?: string}
  /** How a NATS target is (a dry run: would be) published to, and why; absent for a file or no target. */
  publishMode?: PublishMode
  /** Events selected (in this run). */
  selected: number
  /** Newly stored in the target (or written to the file). */
  published: number
  /** Already in the target (same message id): a repeated or resumed replay. */
  duplicates: number
  bytes: number
  retries: number
  first: EventRef | null
  last: EventRef | null
  /** Dry run: events per domain and per event type. */
  byDomain?: Record<string, number>
  byEventType?: Record<string, number>
  estimatedSeconds?: number
  durationSeconds: number
  /** Events per second. */
  rate: number
  stateFile?: string
}

export interface ReplayProgress {
  /** Selected so far. */
  selected: number
  /** Written or acknowledged so far. */
  published: number
  /** The source range of this run: how far it got, where it started and ends. */
  lastSeq: number
  fromSeq: number
  toSeq: number
  elapsedMs: number
}

export interface ReplayOptions {
  signal?: AbortSignal
  onProgress?: (progress: ReplayProgress) => void
  /** Called once the checks passed, just before the first event is published. */
  onStart?: (plan: ReplayPlan) => void
  /** How often onProgress is called. */
  progressEveryMs?: number
  /** Where state files live [default: <data dir>/replay]. */
  stateDir?: string
  /** What the user should know but does not stop the replay (a replay file of an older cimops). */
  onWarning?: (line: string) => void
}

/** One run of a plan, fresh or resumed: what its parts share. */
export interface ReplayRun {
  plan: ReplayPlan
  options: ReplayOptions
  /** Where this run starts reading: after the checkpoint of a resumed replay. */
  startSeq: number
  startedAt: number
  resumeFrom?: ReplayState
}

/** What reached the target: events written or stored, and those it already held. */
export interface Delivery {
  published: number
  duplicates: number
  bytes: number
  retries: number
}

/**
 * `cimops runbook run` as a service: the plan a dry run prints, and a run wired up — its steps run in
 * their shells with the connection settings and this cimops on PATH, shown as they go (reporter.ts),
 * asked about on a terminal (prompts.ts), and recorded in the ops log (record.ts).
 */
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import type {Style} from '../core/output/style.js'
import type {RunRecord} from './execute.js'
import type {Runbook, RunbookStep} from './model.js'
import {type ResolvedParam, visibleParams} from './params.js'
import {type Selection, stepCwd, stepShell} from './plan.js'
import type {RecorderResult} from './record.js'

export interface RunbookRunResult extends RunRecord {
  /** Whether the run's events reached the ops log, and why not. */
  opsLog: RecorderResult
}

export interface RunbookDryRunResult {
  dryRun: true
  runbook: {id: string; title: string; path: string}
  selection: string
  params: Record<string, string>
  steps: Array<{index: number; name: string; description: string; script: string; shell: string; cwd: string; timeoutSeconds?: number; confirm: boolean; continueOnError: boolean}>
}

/** What would run, with which values, from `cwd`. */
export function dryRunPlan(runbook: Runbook, selection: Selection, steps: readonly RunbookStep[], params: readonly ResolvedParam[], cwd: string): RunbookDryRunResult {
  return {
    dryRun: true,
    runbook: {id: runbook.id, title: runbook.title, path: runbook.path},
    selection,
    params: visibleParams(params),
    steps: steps.map((step) => ({
      index: step.index,
      name: step.name,
      description: step.description,
      script: step.script,
      shell: stepShell(runbook, step),
      cwd: stepCwd(runbook, step, cwd),
      ...(step.attributes.timeoutMs === undefined ? {} : {timeoutSeconds: step.attributes.timeoutMs / 1000}),
      confirm: step.attributes.confirm,
      continueOnError: step.attributes.continueOnError,
    })),
  }
}

export interface RunOptions {
  ctx: ResolvedContext
  /** The command's NATS session: the run is recorded in the ops log through it. */
  nats: NatsSession
  runbook: Runbook
  steps: RunbookStep[]
  selection: Selection
  params: ResolvedParam[]
  /** Added to every step's environment besides PATH: the connection settings (step-env.ts). */
  env: Record<string, string>
  /** Where this cimops is installed: the steps' `cimops` runs it. */
  root: string
  cwd: string
  keepGoing: boolean
  yes: boolean
  /** On a terminal (and not --json): steps are asked about. */
  interactive: boolean
  output: {json: boolean; style: Style}
  signal: AbortSignal
  actor?: string
}

export async function runRunbook(options: RunOptions): Promise<RunbookRunResult> {
  const {ctx, signal} = options
  const [{executeRunbook}, {newRunId, opsRecorder}, {runStreaming}, {runReporter}, {askStep}, {createCimopsShim}] = await Promise.all([
    import('./execute.js'),
    import('./record.js'),
    import('../adapters/proc/stream.js'),
    import('./reporter.js'),
    import('./prompts.js'),
    import('./step-env.js'),
  ])
  const runId = newRunId()
  const reporter = await runReporter(options.output)
  const recorder = opsRecorder(ctx, options.nats)
  const shim = await createCimopsShim(runId, options.root)
  let record: RunRecord
  try {
    record = await executeRunbook({
      runbook: options.runbook,
      steps: options.steps,
      selection: options.selection,
      params: options.params,
      runId,
      env: {...options.env, PATH: `${shim.dir}:${process.env.PATH ?? ''}`},
      secrets: [ctx.nats.password, ctx.nats.token],
      cwd: options.cwd,
      keepGoing: options.keepGoing,
      yes: options.yes,
      ask: options.interactive ? (step, position, total) => askStep(reporter, step, position, total, signal) : undefined,
      signal,
      runner: (execution, io) => runStreaming(execution.shell, execution.args, {env: execution.env, cwd: execution.cwd, timeoutMs: execution.timeoutMs, signal: io.signal, onLine: io.onLine}),
      onEvent: (event) => {
        reporter.handle(event)
        recorder.handle(event)
      },
      actor: options.actor,
      context: ctx.name,
    })
  } finally {
    await reporter.stop()
    await shim.remove()
  }
  const opsLog = await recorder.close()
  return {...record, opsLog}
}

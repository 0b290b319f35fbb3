/**
 * Runs the selected steps of a runbook, one after the other, and returns the record of the run.
 * A service: it never prints. What happens is told through events (the command renders them live
 * and records them in the ops log); the step itself runs through a StepRunner (execa in production).
 *
 * Rules: a step that fails stops the run, unless it is `continueOnError` (recorded, ignored) or the
 * run is `keepGoing` (recorded, the run goes on). The exit code is that of the first failed step that
 * was not ignored: its own exit code, 75 when it timed out, 130 when interrupted. A `confirm` step
 * needs --yes or a yes on the terminal; without a terminal and without --yes nothing runs at all.
 */

import {resolveActor} from '../core/actor.js'
import {ExitCode, UsageError} from '../core/errors.js'
import type {Runbook, RunbookStep} from './model.js'
import type {ResolvedParam} from './params.js'
import {secretMasker, visibleParams} from './params.js'
import type {Selection} from './plan.js'
import {stepCwd, stepShell} from './plan.js'

export type StepStatus = 'succeeded' | 'failed' | 'ignored' | 'timed-out' | 'interrupted' | 'declined' | 'not-run'
export type RunStatus = 'succeeded' | 'failed' | 'interrupted' | 'stopped'

export interface StepRecord {
  index: number
  name: string
  status: StepStatus
  /** The step's exit code; null when it did not run or did not exit by itself (timeout, Ctrl-C). */
  exitCode: number | null
  /** RFC 3339; absent when it did not run. */
  startedAt?: string
  durationSeconds: number
  /** Lines the step printed (stdout and stderr). */
  outputLines: number
  /** Its last lines, secrets masked. */
  outputTail: string[]
}

export interface RunRecord {
  runId: string
  runbook: {id: string; title: string; path: string}
  selection: Selection
  /** Parameter values, secrets as ***. */
  params: Record<string, string>
  actor: {user: string; host: string}
  context?: string
  startedAt: string
  finishedAt: string
  durationSeconds: number
  status: RunStatus
  /** 0, or that of the first failed step (75 timed out, 130 interrupted). */
  exitCode: number
  failedStep?: string
  steps: StepRecord[]
}

export interface StepExecution {
  shell: string
  args: string[]
  cwd: string
  env: Record<string, string>
  timeoutMs?: number
}

export interface StepOutcome {
  exitCode: number | null
  timedOut: boolean
  canceled: boolean
  durationMs: number
}

export type StepRunner = (execution: StepExecution, io: {signal: AbortSignal; onLine: (stream: 'stdout' | 'stderr', line: string) => void}) => Promise<StepOutcome>

export type Answer = 'yes' | 'no' | 'quit'

export type RunEvent =
  | {type: 'run-started'; run: Pick<RunRecord, 'runId' | 'runbook' | 'selection' | 'params' | 'actor' | 'context' | 'startedAt'>; steps: RunbookStep[]}
  | {type: 'step-started'; step: RunbookStep; position: number; total: number; execution: Pick<StepExecution, 'shell' | 'cwd' | 'timeoutMs'>}
  | {type: 'step-output'; step: RunbookStep; stream: 'stdout' | 'stderr'; line: string}
  | {type: 'step-finished'; step: RunbookStep; position: number; total: number; record: StepRecord}
  | {type: 'run-finished'; record: RunRecord}

export interface ExecuteOptions {
  runbook: Runbook
  steps: RunbookStep[]
  selection: Selection
  params: ResolvedParam[]
  runId: string
  /** Added to the inherited environment of every step (connection settings, PATH with cimops first). */
  env: Record<string, string>
  /** Masked in step output and the record besides secret parameters: the context's own password and token. */
  secrets?: ReadonlyArray<string | undefined>
  /** Working directory of steps without a cwd. */
  cwd: string
  keepGoing: boolean
  /** --yes: confirm steps run without asking. */
  yes: boolean
  /** Asks on a terminal; undefined without one. */
  ask?: (step: RunbookStep, position: number, total: number, reason: 'walk' | 'confirm') => Promise<Answer>
  signal: AbortSignal
  runner: StepRunner
  onEvent?: (event: RunEvent) => void
  actor?: string
  context?: string
  now?: () => Date
}

/** Lines of output kept per step in the record. */
export const OUTPUT_TAIL_LINES = 20
/** Characters kept per line in the record. */
const TAIL_LINE_CHARS = 500

export async function executeRunbook(options: ExecuteOptions): Promise<RunRecord> {
  const {runbook, steps, signal} = options
  const now = options.now ?? (() => new Date())
  const emit = options.onEvent ?? (() => {})
  if (options.selection === 'walk' && !options.ask) {
    throw new UsageError(`which steps of runbook ${runbook.id}?`, 'without a terminal to ask on, steps are chosen up front', {hint: 'pass --all, or --step NAME (repeatable)'})
  }
  const needsConfirm = steps.filter((step) => step.attributes.confirm)
  if (!options.yes && !options.ask && needsConfirm.length > 0) {
    throw new UsageError(
      `refusing to run runbook ${runbook.id} without confirmation`,
      `step${needsConfirm.length > 1 ? 's' : ''} ${needsConfirm.map((s) => s.name).join(', ')} ask${needsConfirm.length > 1 ? '' : 's'} for confirmation and there is no terminal to ask on`,
      {hint: 'pass --yes to run them, or leave them out with --step'},
    )
  }

  const mask = secretMasker(options.params, options.secrets)
  const started = now()
  const actor = resolveActor(options.actor)
  const run = {
    runId: options.runId,
    runbook: {id: runbook.id, title: runbook.title, path: runbook.path},
    selection: options.selection,
    params: visibleParams(options.params),
    actor,
    ...(options.context ? {context: options.context} : {}),
    startedAt: started.toISOString(),
  }
  emit({type: 'run-started', run, steps})

  const records: StepRecord[] = []
  let failure: {step: string; exitCode: number} | undefined
  let status: RunStatus = 'succeeded'
  let stopped = false
  const paramEnv = Object.fromEntries(options.params.map((param) => [param.name, param.value]))

  for (const [i, step] of steps.entries()) {
    const position = i + 1
    const skipped = (stepStatus: StepStatus): StepRecord => ({index: step.index, name: step.name, status: stepStatus, exitCode: null, durationSeconds: 0, outputLines: 0, outputTail: []})
    if (stopped || signal.aborted) {
      records.push(skipped('not-run'))
      continue
    }
    const reason = options.selection === 'walk' ? 'walk' : step.attributes.confirm && !options.yes ? 'confirm' : undefined
    if (reason) {
      const answer = await options.ask!(step, position, steps.length, reason)
      if (signal.aborted) {
        records.push(skipped('not-run'))
        continue
      }
      if (answer === 'quit') {
        status = 'stopped'
        stopped = true
        records.push(skipped('not-run'))
        continue
      }
      if (answer === 'no') {
        const record = skipped('declined')
        records.push(record)
        emit({type: 'step-finished', step, position, total: steps.length, record})
        continue
      }
    }

    const execution: StepExecution = {
      shell: stepShell(runbook, step),
      // -e: the first failing command fails the step. $0 names the step in the shell's own messages.
      args: ['-e', '-c', step.script, `${runbook.id}/${step.name}`],
      cwd: stepCwd(runbook, step, options.cwd),
      env: {...options.env, CIMOPS_RUNBOOK: runbook.id, CIMOPS_RUNBOOK_STEP: step.name, CIMOPS_RUN_ID: options.runId, ...paramEnv},
      ...(step.attributes.timeoutMs === undefined ? {} : {timeoutMs: step.attributes.timeoutMs}),
    }
    emit({type: 'step-started', step, position, total: steps.length, execution: {shell: execution.shell, cwd: execution.cwd, timeoutMs: execution.timeoutMs}})
    const stepStarted = now()
    const tail: string[] = []
    let lines = 0
    const outcome = await options.runner(execution, {
      signal,
      onLine(stream, raw) {
        const line = mask(raw)
        lines++
        tail.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line)
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift()
        emit({type: 'step-output', step, stream, line})
      },
    })
    const stepStatus: StepStatus = outcome.canceled
      ? 'interrupted'
      : outcome.timedOut
        ? 'timed-out'
        : outcome.exitCode === 0
          ? 'succeeded'
          : step.attributes.continueOnError
            ? 'ignored'
            : 'failed'
    const record: StepRecord = {
      index: step.index,
      name: step.name,
      status: stepStatus,
      exitCode: outcome.exitCode,
      startedAt: stepStarted.toISOString(),
      durationSeconds: Math.round(outcome.durationMs) / 1000,
      outputLines: lines,
      outputTail: tail,
    }
    records.push(record)
    emit({type: 'step-finished', step, position, total: steps.length, record})

    if (stepStatus === 'interrupted') {
      failure ??= {step: step.name, exitCode: ExitCode.INTERRUPTED}
      status = 'interrupted'
      stopped = true
    } else if (stepStatus === 'failed' || (stepStatus === 'timed-out' && !step.attributes.continueOnError)) {
      failure ??= {step: step.name, exitCode: stepStatus === 'timed-out' ? ExitCode.TIMEOUT : (outcome.exitCode ?? ExitCode.FAILED)}
      if (status !== 'stopped') status = 'failed'
      if (!options.keepGoing) stopped = true
    }
  }
  if (signal.aborted && status !== 'interrupted') {
    status = 'interrupted'
    failure ??= {step: records.find((r) => r.status === 'not-run')?.name ?? '', exitCode: ExitCode.INTERRUPTED}
  }

  const finished = now()
  const record: RunRecord = {
    ...run,
    finishedAt: finished.toISOString(),
    durationSeconds: Math.round(finished.getTime() - started.getTime()) / 1000,
    status,
    exitCode: failure?.exitCode ?? 0,
    ...(failure?.step ? {failedStep: failure.step} : {}),
    steps: records,
  }
  emit({type: 'run-finished', record})
  return record
}

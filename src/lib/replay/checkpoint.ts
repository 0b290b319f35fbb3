/**
 * The state file of a replay (`<data dir>/replay/<id>.json`): the plan, its status and, every few
 * thousand acknowledged events, how far acknowledgements reach. `--resume ID` continues from there.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import {makeDirectories} from '../core/directories.js'
import {DataError, NotFoundError} from '../core/errors.js'
import {cimopsDataDir} from '../core/paths.js'
import type {ReplayPlan, ReplayState} from './model.js'

const CHECKPOINT_EVERY = 5000

export function replayStateDir(): string {
  return join(cimopsDataDir(), 'replay')
}

export async function loadReplayState(id: string, stateDir = replayStateDir()): Promise<ReplayState> {
  const file = join(stateDir, `${id}.json`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new NotFoundError(`no replay ${id}`, `no state file ${file}`, {hint: 'the replay id is printed when a replay starts and when it is interrupted'})
  }
  let state: ReplayState & {startSeq?: number; endSeq?: number}
  try {
    state = JSON.parse(text) as typeof state
  } catch {
    throw new DataError(`cannot resume replay ${id}`, `${file} is not valid JSON`)
  }
  // A replay interrupted before the range took the flags' names (startSeq/endSeq) still resumes.
  const {startSeq, endSeq, ...rest} = state
  return {...rest, fromSeq: state.fromSeq ?? startSeq!, toSeq: state.toSeq ?? endSeq!}
}

/** The state file of one run: written when it starts, in the background as it goes, and when it ends. */
export class ReplayCheckpoint {
  /** The save in progress: one at a time. */
  private saving?: Promise<void>
  private failure?: unknown

  private constructor(
    readonly file: string,
    private readonly state: ReplayState,
  ) {}

  /** Creates the state file of a run whose events up to `doneSeq` are acknowledged already. */
  static async open(plan: ReplayPlan, stateDir: string, doneSeq: number): Promise<ReplayCheckpoint> {
    await makeDirectories(stateDir)
    const checkpoint = new ReplayCheckpoint(join(stateDir, `${plan.replayId}.json`), {...plan, status: 'running', doneSeq, updatedAt: new Date().toISOString()})
    await checkpoint.save()
    return checkpoint
  }

  get doneSeq(): number {
    return this.state.doneSeq
  }

  save(patch: Partial<ReplayState> = {}): Promise<void> {
    return writeFileAtomic(this.file, `${JSON.stringify(Object.assign(this.state, patch, {updatedAt: new Date().toISOString()}), null, 2)}\n`)
  }

  /**
   * Acknowledgements reach `doneSeq`: saved in the background once they are far enough past the last
   * checkpoint and no save is running. A failed save is kept for settled() and reported to `onFailure`.
   */
  advance(doneSeq: number, onFailure: (error: unknown) => void): void {
    if (this.saving || doneSeq - this.state.doneSeq < CHECKPOINT_EVERY) return
    this.saving = this.save({doneSeq})
      .catch((error: unknown) => {
        this.failure ??= error
        onFailure(error)
      })
      .finally(() => (this.saving = undefined))
  }

  /** Waits for the background save, if any. */
  async idle(): Promise<void> {
    await this.saving
  }

  /** Waits for the background save; throws if any background save failed. */
  async settled(): Promise<void> {
    await this.saving
    if (this.failure) throw this.failure
  }
}

/**
 * Which runbook covers an alert: runbooks declare the alerts they answer in their front matter,
 * `alerts: [HighEventProcessingLag, ...]`. Read with the runbook capability's own parser
 * (src/lib/runbooks), so `alerts list`, `runbook for-alert` and `runbook list --alert` always agree.
 */
import {loadRunbooks, packageRunbooksDir, runbookDirs} from '../runbooks/load.js'

export interface RunbookEntry {
  /** The runbook's id: what `cimops runbook show ID` and `runbook run ID` take. */
  name: string
  path: string
}

export interface RunbookIndex {
  /** alertname -> the first runbook (by file name) that lists it. */
  byAlert: Map<string, RunbookEntry>
  /** Files that could not be read or whose front matter is malformed. */
  warnings: string[]
}

/** `<package root>/runbooks`, the same from src/lib/alerts and dist/lib/alerts. */
export function defaultRunbooksDir(): string {
  return packageRunbooksDir()
}

/**
 * Reads every runbook once. Without `dir`, the directories `cimops runbook` reads (CIMOPS_RUNBOOKS,
 * else the package's). A missing directory is an empty index, not an error.
 */
export async function loadRunbookIndex(dir?: string): Promise<RunbookIndex> {
  const byAlert = new Map<string, RunbookEntry>()
  let library
  try {
    library = await loadRunbooks(runbookDirs(dir))
  } catch (error) {
    return {byAlert, warnings: [(error as Error).message]}
  }
  for (const runbook of library.runbooks) {
    for (const alert of runbook.alerts) if (!byAlert.has(alert)) byAlert.set(alert, {name: runbook.id, path: runbook.path})
  }
  const warnings = library.problems
    .filter((problem) => problem.severity === 'error' && library.broken.includes(problem.path))
    .map((problem) => `runbook ${problem.path}: ${problem.message}`)
  return {byAlert, warnings}
}

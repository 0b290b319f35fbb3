/**
 * Which runbook covers an alert: the runbooks in `runbooks/*.md` (shipped with cimops) declare the
 * alerts they handle in YAML front matter, `alerts: [HighEventLag, ...]`. Deliberately small: the
 * runbook capability (issue 10) owns parsing and running runbooks; this only answers "which one".
 */
import {readdir, readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export interface RunbookEntry {
  /** File name without `.md`: what `cimops runbook show NAME` takes. */
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
  return fileURLToPath(new URL('../../../runbooks', import.meta.url))
}

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/

/** Reads every runbook's front matter once. A missing directory is an empty index, not an error. */
export async function loadRunbookIndex(dir = defaultRunbooksDir()): Promise<RunbookIndex> {
  const byAlert = new Map<string, RunbookEntry>()
  const warnings: string[] = []
  let files: string[]
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith('.md')).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {byAlert, warnings}
    return {byAlert, warnings: [`cannot read runbooks in ${dir}: ${(error as Error).message}`]}
  }
  if (files.length === 0) return {byAlert, warnings}
  const {parse} = await import('yaml')
  for (const file of files) {
    const path = join(dir, file)
    let alerts: unknown
    try {
      const match = FRONT_MATTER.exec(await readFile(path, 'utf8'))
      if (!match) continue
      alerts = (parse(match[1]) as {alerts?: unknown} | null)?.alerts
    } catch (error) {
      warnings.push(`runbook ${path}: bad front matter: ${(error as Error).message.split('\n')[0]}`)
      continue
    }
    if (alerts === undefined || alerts === null) continue
    const names = typeof alerts === 'string' ? [alerts] : alerts
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
      warnings.push(`runbook ${path}: front matter "alerts" must be a list of alert names`)
      continue
    }
    const entry = {name: basename(file, '.md'), path}
    for (const name of names) if (!byAlert.has(name)) byAlert.set(name, entry)
  }
  return {byAlert, warnings}
}

/**
 * Where runbooks live and how they are found: `--dir DIR` > `CIMOPS_RUNBOOKS` (one or more directories,
 * separated like PATH) > the `runbooks/` folder shipped with cimops. Every `*.md` below them (README.md
 * and files without front matter are plain documents, not runbooks).
 */
import {readdir, readFile} from 'node:fs/promises'
import {delimiter, join, relative, resolve} from 'node:path'

import {DataError, NotFoundError, UsageError} from '../core/errors.js'
import type {Runbook, RunbookProblem} from './model.js'
import {parseRunbook} from './parse.js'
import {packageRoot} from '../core/paths.js'

/** `<package root>/runbooks`. */
export function packageRunbooksDir(): string {
  return join(packageRoot(), 'runbooks')
}

/** The directories to read, most specific first. */
export function runbookDirs(dir?: string, env: Record<string, string | undefined> = process.env): string[] {
  if (dir) return [resolve(dir)]
  const fromEnv = env.CIMOPS_RUNBOOKS?.split(delimiter).filter((part) => part.trim() !== '')
  if (fromEnv && fromEnv.length > 0) return fromEnv.map((part) => resolve(part))
  return [packageRunbooksDir()]
}

export interface RunbookLibrary {
  dirs: string[]
  /** Parsed runbooks, by id; for a duplicate id the first file (in directory order, then path) wins. */
  runbooks: Runbook[]
  /** Problems found while parsing (and duplicate ids), by file. */
  problems: RunbookProblem[]
  /** Markdown files that are not runbooks (no front matter). */
  documents: string[]
  /** Runbook files that could not be parsed at all. */
  broken: string[]
}

export async function loadRunbooks(dirs: string[]): Promise<RunbookLibrary> {
  const {parse} = await import('yaml')
  const library: RunbookLibrary = {dirs, runbooks: [], problems: [], documents: [], broken: []}
  const byId = new Map<string, Runbook>()
  for (const dir of dirs) {
    for (const path of await markdownFiles(dir)) {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (error) {
        library.problems.push({severity: 'error', rule: 'read', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, path})
        library.broken.push(path)
        continue
      }
      const parsed = parseRunbook(path, text, {parseYaml: parse})
      library.problems.push(...parsed.problems)
      if (parsed.notRunbook) {
        library.documents.push(path)
        continue
      }
      if (!parsed.runbook) {
        library.broken.push(path)
        continue
      }
      const first = byId.get(parsed.runbook.id)
      if (first) {
        library.problems.push({
          severity: 'error',
          rule: 'duplicate-id',
          message: `runbook id "${parsed.runbook.id}" is used by ${first.path} too; that one is used`,
          path,
          line: 1,
          runbook: parsed.runbook.id,
        })
        continue
      }
      byId.set(parsed.runbook.id, parsed.runbook)
      library.runbooks.push(parsed.runbook)
    }
  }
  return library
}

/** `*.md` below `dir`, sorted; a missing directory has none. */
async function markdownFiles(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, {recursive: true, withFileTypes: true})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return []
    // A file named directly (`runbook lint ./x.md`).
    if (code === 'ENOTDIR') return [dir]
    throw new UsageError(`cannot read runbooks in ${dir}`, (error as NodeJS.ErrnoException).code ?? String(error))
  }
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md') && !/^readme\.md$/i.test(entry.name))
    .map((entry) => join(entry.parentPath ?? (entry as unknown as {path: string}).path, entry.name))
    .filter((path) => !relative(dir, path).split(/[\\/]/).some((part) => part.startsWith('.') || part === 'node_modules'))
    .sort()
}

/** The runbook with this id, or not found (exit 2, as for an unknown stream or incident) naming the ones there are. */
export function findRunbook(library: RunbookLibrary, id: string): Runbook {
  const found = library.runbooks.find((runbook) => runbook.id === id) ?? library.runbooks.find((runbook) => runbook.id === id.toLowerCase())
  if (found) return found
  const broken = library.broken.find((path) => path.endsWith(`/${id}.md`))
  if (broken) {
    const why = library.problems.filter((p) => p.path === broken && p.severity === 'error').map((p) => p.message)
    throw new DataError(`runbook ${id} is malformed`, why[0] ?? 'its front matter cannot be read', {hint: `\`cimops runbook lint ${broken}\` lists every problem`})
  }
  const ids = library.runbooks.map((runbook) => runbook.id)
  throw new NotFoundError(`no runbook "${id}"`, ids.length === 0 ? `there are no runbooks in ${library.dirs.join(', ')}` : `the runbooks are ${ids.join(', ')}`, {
    hint: '`cimops runbook list` shows them with their alerts',
  })
}

/** Runbooks answering an alert (case-insensitive), in library order. */
export function runbooksForAlert(library: RunbookLibrary, alertname: string): Runbook[] {
  const wanted = alertname.toLowerCase()
  return library.runbooks.filter((runbook) => runbook.alerts.some((alert) => alert.toLowerCase() === wanted))
}

/** The errors of one runbook's file: it must not run or be shown as if it were fine. */
export function fileErrors(library: RunbookLibrary, runbook: Runbook): RunbookProblem[] {
  return library.problems.filter((problem) => problem.path === runbook.path && problem.severity === 'error' && problem.rule !== 'duplicate-id')
}

/** Refuses a runbook whose file has errors (exit 65), naming the first and how to see them all. */
export function assertRunnable(library: RunbookLibrary, runbook: Runbook): void {
  const errors = fileErrors(library, runbook)
  if (errors.length === 0) return
  const first = errors[0]
  throw new DataError(
    `runbook ${runbook.id} is malformed`,
    `${first.line ? `line ${first.line}: ` : ''}${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
    {hint: `\`cimops runbook lint ${runbook.id}\` lists every problem`},
  )
}

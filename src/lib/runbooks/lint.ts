/**
 * `runbook lint`: what the parser found (front matter, attributes, duplicate step names) plus what
 * only a whole-library view or the command catalog can tell: duplicate ids, missing sections, and
 * every `cimops …` line in a step checked against the real commands and their flags.
 * A `cimops` command the catalog does not know is an error, except in a block excluded from --all
 * (documentation of a command this version may not have): there it is a warning.
 * A step calling Alertmanager's API v1 is an error too: 0.27+ answers it with 410 Gone.
 */
import {basename, extname} from 'node:path'

import type {CommandCatalog} from './catalog.js'
import {checkCimopsCommand} from './catalog.js'
import type {RunbookLibrary} from './load.js'
import {EXPECTED_SECTIONS, type Runbook, type RunbookProblem} from './model.js'
import {simpleCommands} from './shell-words.js'

export interface LintResult {
  /** Runbooks checked. */
  runbooks: number
  /** Steps checked, and `cimops` commands among them. */
  steps: number
  cimopsCommands: number
  errors: number
  warnings: number
  /** Sorted by file, then line. */
  problems: RunbookProblem[]
  /** Markdown files that are not runbooks (no front matter), not linted. */
  documents: string[]
}

export interface LintOptions {
  /** Only these runbooks (by id or path); all when empty. */
  only?: string[]
}

export function lintLibrary(library: RunbookLibrary, catalog: CommandCatalog, options: LintOptions = {}): LintResult {
  const wanted = (path: string, id?: string) =>
    !options.only || options.only.length === 0 || options.only.some((item) => item === id || item === path || path.endsWith(`/${item}`) || basename(path, extname(path)) === item)
  const problems = library.problems.filter((problem) => wanted(problem.path, problem.runbook))
  let steps = 0
  let cimopsCommands = 0
  const runbooks = library.runbooks.filter((runbook) => wanted(runbook.path, runbook.id))

  const claimed = new Map<string, string>()
  for (const runbook of library.runbooks) {
    for (const alert of runbook.alerts) {
      const first = claimed.get(alert)
      if (first && wanted(runbook.path, runbook.id)) {
        problems.push(warning(runbook, 'alert-claimed', `alert ${alert} is answered by runbook ${first} already, which alerts list and for-alert show`, 1))
      } else if (!first) {
        claimed.set(alert, runbook.id)
      }
    }
  }

  for (const runbook of runbooks) {
    problems.push(...documentProblems(runbook))
    for (const step of runbook.steps) {
      steps++
      for (const command of simpleCommands(step.script)) {
        for (const call of command.words.flatMap((word) => alertmanagerV1Call(word.text) ?? [])) {
          problems.push({
            severity: 'error',
            rule: 'alertmanager-api-v1',
            message: `step "${step.name}" calls Alertmanager's API v1 (${call.path}), which Alertmanager 0.27+ answers with 410 Gone: use ${call.replacement} (there since 0.16; its answer has no {"status", "data"} wrapper)`,
            path: runbook.path,
            line: step.line + command.line,
            runbook: runbook.id,
            step: step.name,
          })
        }
        if (command.words[0]?.text !== 'cimops' || command.words[0].dynamic) continue
        cimopsCommands++
        const check = checkCimopsCommand(catalog, command.words.slice(1))
        if (check.ok) continue
        const excluded = step.attributes.excludeFromRunAll && check.kind === 'unknown-command'
        problems.push({
          severity: excluded ? 'warning' : 'error',
          rule: 'cimops-command',
          message: excluded ? `${check.message} (not in this version of cimops; the step is excluded from --all)` : check.message,
          path: runbook.path,
          line: step.line + command.line,
          runbook: runbook.id,
          step: step.name,
        })
      }
    }
  }
  problems.sort((a, b) => a.path.localeCompare(b.path) || (a.line ?? 0) - (b.line ?? 0) || a.rule.localeCompare(b.rule))
  return {
    runbooks: runbooks.length,
    steps,
    cimopsCommands,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
    problems,
    documents: library.documents.filter((path) => wanted(path)),
  }
}

/** Paths only Alertmanager's API v1 had (Prometheus has `/api/v1/status/<what>`, never `/api/v1/status`). */
const ALERTMANAGER_ONLY_V1 = /^(silences|silence\/.+|receivers|alerts\/groups|status)$/
/** Prometheus serves `/api/v1/alerts` too: there it is Alertmanager's only when the URL says so. */
const ALERTMANAGER_URL = /alertmanager|:9093(?!\d)|\$\{?AM(_\w*)?\b/i

/** The Alertmanager API v1 path a word (a URL) calls, with its v2 replacement, if it calls one. */
function alertmanagerV1Call(word: string): {path: string; replacement: string} | undefined {
  const match = /\/api\/v1\/([^?#\s]+)/.exec(word)
  if (!match) return undefined
  const endpoint = match[1]
  const alertmanager = ALERTMANAGER_ONLY_V1.test(endpoint) || (endpoint === 'alerts' && ALERTMANAGER_URL.test(word.slice(0, match.index)))
  return alertmanager ? {path: `/api/v1/${endpoint}`, replacement: `/api/v2/${endpoint}`} : undefined
}

function warning(runbook: Runbook, rule: string, message: string, line?: number, step?: string): RunbookProblem {
  return {severity: 'warning', rule, message, path: runbook.path, ...(line ? {line} : {}), runbook: runbook.id, ...(step ? {step} : {})}
}

/** Checks of one runbook as a document: what a reader at 3 a.m. needs to find in it. */
function documentProblems(runbook: Runbook): RunbookProblem[] {
  const problems: RunbookProblem[] = []
  const error = (rule: string, message: string, line?: number, step?: string) =>
    problems.push({severity: 'error', rule, message, path: runbook.path, ...(line ? {line} : {}), runbook: runbook.id, ...(step ? {step} : {})})
  if (!runbook.declared.id) error('front-matter', 'front matter has no "id" (the id is what `cimops runbook run ID` takes)', 1)
  if (!runbook.declared.title) error('front-matter', 'front matter has no "title"', 1)
  if (runbook.declared.id && runbook.id !== basename(runbook.path, extname(runbook.path))) {
    problems.push(warning(runbook, 'file-name', `the file name does not match the id "${runbook.id}": name it ${runbook.id}.md`, 1))
  }
  const titles = new Set(runbook.sections.filter((s) => s.level === 2).map((s) => s.title.toLowerCase()))
  const missing = EXPECTED_SECTIONS.filter((section) => !titles.has(section.toLowerCase()))
  if (missing.length > 0) problems.push(warning(runbook, 'sections', `no ${missing.map((s) => `## ${s}`).join(', ')} section${missing.length > 1 ? 's' : ''}`, 1))
  for (const alert of runbook.alerts) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(alert)) problems.push(warning(runbook, 'alerts', `"${alert}" does not look like a Prometheus alert name`, 1))
  }
  if (runbook.steps.length === 0) problems.push(warning(runbook, 'steps', 'no executable steps (```sh blocks)', 1))
  for (const step of runbook.steps) {
    if (step.nameSource === 'inferred') problems.push(warning(runbook, 'step-name', `step ${step.index} has no name; it is called "${step.name}" after its first command: give it {"name": "…"}`, step.line, step.name))
    if (step.description === '') problems.push(warning(runbook, 'step-description', `step "${step.name}" has no paragraph before it saying what it does`, step.line, step.name))
    for (const param of runbook.params) {
      // A param spliced into a here-doc or eval is still an env var, but `eval "$X"` runs its value.
      if (new RegExp(`\\beval\\b[^\\n]*\\$\\{?${param.name}\\b`).test(step.script)) {
        error('param-eval', `step "${step.name}" passes parameter ${param.name} to eval: its value would run as a command`, step.line, step.name)
      }
    }
  }
  for (const param of runbook.params) {
    if (param.required && param.default !== undefined) problems.push(warning(runbook, 'params', `parameter ${param.name} is required but has a default, which always satisfies it`, 1))
    if (!runbook.steps.some((step) => new RegExp(`\\$\\{?${param.name}\\b`).test(step.script))) {
      problems.push(warning(runbook, 'params', `parameter ${param.name} is not used by any step (steps read it as $${param.name})`, 1))
    }
  }
  return problems
}

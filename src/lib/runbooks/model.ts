/**
 * Runbooks as code: markdown with YAML front matter, executable steps in fenced shell blocks with
 * Runme-compatible attributes (reference/oclif-node20.md §4). One model, one parser, shared by
 * `runbook list|show|lint|run|for-alert`, `alerts list` (which runbook answers an alert) and `morning-check`.
 */

export interface RunbookParam {
  /** Also the name of the environment variable the steps read it from. */
  name: string
  description?: string
  default?: string
  required: boolean
  /** A regular expression the whole value must match. */
  pattern?: string
  /** Never printed, never recorded: masked as *** in output, JSON, ops and audit events. */
  secret: boolean
}

export interface StepAttributes {
  /** Ask before running (a terminal), or require --yes (no terminal). */
  confirm: boolean
  /** Stop the step after this long. */
  timeoutMs?: number
  /** A failure is recorded and the run goes on; it does not decide the exit code. */
  continueOnError: boolean
  /** Not run by --all: documentation, or too dangerous to run unasked. Runs only when named with --step. */
  excludeFromRunAll: boolean
  /** Working directory; relative to the runbook's file. */
  cwd?: string
  /** The shell that runs the block (bash, sh, zsh, dash). */
  interpreter?: string
  /** Runme categories / tags of the block. */
  categories: string[]
}

export interface RunbookStep {
  /** 1-based position among the runbook's steps. */
  index: number
  name: string
  /** `attribute`: given; `inferred`: from the first command, as Runme does. */
  nameSource: 'attribute' | 'inferred'
  /** The fence's language: sh, bash, shell, zsh. */
  language: string
  /** The block's text, `$ ` prompts stripped. */
  script: string
  /** The paragraph right before the block. */
  description: string
  /** The nearest heading above the block (Diagnosis, Mitigation, ...). */
  section?: string
  /** 1-based line of the opening fence in the file. */
  line: number
  attributes: StepAttributes
  /** The attributes as written, all values strings (Runme's convention). */
  rawAttributes: Record<string, string>
}

export interface RunbookSection {
  title: string
  level: number
  line: number
}

export interface Runbook {
  /** Front matter `id`, else the file name without `.md`. */
  id: string
  /** Front matter `title`, else the first `# heading`, else the id. */
  title: string
  path: string
  description?: string
  /** Alert names this runbook answers. */
  alerts: string[]
  tags: string[]
  params: RunbookParam[]
  severity?: string
  owner?: string
  /** Document-level default shell and working directory (Runme front matter). */
  shell?: string
  cwd?: string
  sections: RunbookSection[]
  steps: RunbookStep[]
  /** The markdown after the front matter. */
  body: string
  /** Line in the file where `body` starts. */
  bodyLine: number
  /** What the front matter set explicitly (lint wants id and title written down). */
  declared: {id: boolean; title: boolean}
}

export type ProblemSeverity = 'error' | 'warning'

/** A finding of the parser or the linter, located in the file. */
export interface RunbookProblem {
  severity: ProblemSeverity
  /** Short rule name: front-matter, attribute, duplicate-step, cimops-command, ... */
  rule: string
  message: string
  path: string
  line?: number
  runbook?: string
  step?: string
}

export interface ParsedRunbook {
  runbook?: Runbook
  /** Parse-time problems; an `error` means the runbook must not run. */
  problems: RunbookProblem[]
  /** The file has no front matter: plain markdown, not a runbook. */
  notRunbook?: boolean
}

/** Fence languages whose blocks are steps. */
export const SHELL_LANGUAGES = ['sh', 'bash', 'shell', 'shellscript', 'zsh', 'dash'] as const
/** Shells a step may name as `interpreter` (or the front matter as `shell`). */
export const SHELLS = ['bash', 'sh', 'zsh', 'dash'] as const

/** Sections every runbook is expected to have (prometheus-operator/runbooks convention). */
export const EXPECTED_SECTIONS = ['Meaning', 'Impact', 'Diagnosis', 'Mitigation'] as const

/** Parameters that would change how steps or nested cimops commands behave: never a runbook param. */
export const RESERVED_PARAM_NAMES = /^(PATH|HOME|SHELL|IFS|ENV|BASH_ENV|PWD|OLDPWD|USER|LOGNAME|TMPDIR|LANG|LC_[A-Z]+|TERM|NODE_OPTIONS|NODE_PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|NATS_[A-Z_]+|CIMOPS_[A-Z_]+|XDG_[A-Z_]+|NO_COLOR|FORCE_COLOR|CI)$/

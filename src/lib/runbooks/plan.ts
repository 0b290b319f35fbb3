/**
 * Which steps a run executes, and how each one is run: its shell, working directory and environment.
 * `--step NAME` (repeatable, in the order given; `ID/NAME` and 1-based numbers work too), `--all`
 * (every step not excluded from run-all, in file order), or a walk through every step asking before each.
 */
import {dirname, isAbsolute, resolve} from 'node:path'

import {UsageError} from '../core/errors.js'
import type {Runbook, RunbookStep} from './model.js'

export type Selection = 'steps' | 'all' | 'walk'

export interface SelectOptions {
  steps?: readonly string[]
  all?: boolean
  /** Only steps of this category (Runme `category`), with --all. */
  category?: string
}

export function selectSteps(runbook: Runbook, {steps = [], all = false, category}: SelectOptions): {selection: Selection; steps: RunbookStep[]} {
  if (steps.length > 0 && all) throw new UsageError('--step and --all cannot be used together', 'name the steps, or run them all')
  if (steps.length > 0) return {selection: 'steps', steps: steps.map((name) => findStep(runbook, name))}
  const wanted = (step: RunbookStep) => !category || step.attributes.categories.includes(category)
  if (all) {
    const chosen = runbook.steps.filter((step) => !step.attributes.excludeFromRunAll && wanted(step))
    if (chosen.length === 0) {
      throw new UsageError(`runbook ${runbook.id} has no step to run with --all${category ? ` in category ${category}` : ''}`, 'every step is excluded from run-all', {
        hint: 'name a step with --step NAME',
      })
    }
    return {selection: 'all', steps: chosen}
  }
  return {selection: 'walk', steps: runbook.steps.filter(wanted)}
}

/** A step by name, `runbook-id/name`, or 1-based number; a usage error listing the steps otherwise. */
export function findStep(runbook: Runbook, wanted: string): RunbookStep {
  const name = wanted.includes('/') && wanted.startsWith(`${runbook.id}/`) ? wanted.slice(runbook.id.length + 1) : wanted
  const found =
    runbook.steps.find((step) => step.name === name) ??
    runbook.steps.find((step) => step.name.toLowerCase() === name.toLowerCase()) ??
    (/^\d+$/.test(name) ? runbook.steps[Number(name) - 1] : undefined)
  if (found) return found
  throw new UsageError(`runbook ${runbook.id} has no step "${wanted}"`, runbook.steps.length === 0 ? 'it has no steps' : `its steps are ${runbook.steps.map((s) => s.name).join(', ')}`, {
    hint: `\`cimops runbook show ${runbook.id}\` shows them`,
  })
}

/** The shell for a step: its interpreter attribute, the runbook's `shell`, or the fence language (bash for sh/shell). */
export function stepShell(runbook: Runbook, step: RunbookStep): string {
  if (step.attributes.interpreter) return step.attributes.interpreter
  if (runbook.shell) return runbook.shell
  if (step.language === 'zsh' || step.language === 'dash') return step.language
  return 'bash'
}

/** The working directory: the step's `cwd`, else the runbook's, relative to the runbook file; else the caller's. */
export function stepCwd(runbook: Runbook, step: RunbookStep, fallback: string): string {
  const base = dirname(runbook.path)
  const docCwd = runbook.cwd ? (isAbsolute(runbook.cwd) ? runbook.cwd : resolve(base, runbook.cwd)) : undefined
  if (step.attributes.cwd) return isAbsolute(step.attributes.cwd) ? step.attributes.cwd : resolve(docCwd ?? base, step.attributes.cwd)
  return docCwd ?? fallback
}

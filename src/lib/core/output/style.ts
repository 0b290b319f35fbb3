import {Chalk, type ChalkInstance} from 'chalk'

import type {Status} from '../check/status.js'

export interface StyleOptions {
  /** --no-color given. */
  noColor?: boolean
  stream?: NodeJS.WriteStream
  env?: Record<string, string | undefined>
}

/** Colour only on a TTY, and never with NO_COLOR or --no-color (https://no-color.org). */
export function colorEnabled({noColor = false, stream = process.stdout, env = process.env}: StyleOptions = {}): boolean {
  if (noColor || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

/** The only way services colour text: they never import chalk (scripts/check-imports.mjs). */
export interface Style {
  color: boolean
  status(status: Status, text?: string): string
  dim(text: string): string
  bold(text: string): string
  /** What the eye should find: a step heading, a command to run, an info severity. */
  accent(text: string): string
}

export function createStyle(options: StyleOptions = {}): Style {
  const color = colorEnabled(options)
  const chalk = new Chalk({level: color ? 1 : 0})
  const paint: Record<Status, ChalkInstance> = {
    OK: chalk.green,
    WARNING: chalk.yellow,
    CRITICAL: chalk.red.bold,
    UNKNOWN: chalk.magenta,
  }
  return {
    color,
    status: (status, text = status) => paint[status](text),
    dim: (text) => chalk.dim(text),
    bold: (text) => chalk.bold(text),
    accent: (text) => chalk.cyan(text),
  }
}

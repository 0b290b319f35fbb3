import {ExitCode, isCimopsError} from './errors.js'

/** How an error is shown and which exit code it gives (DESIGN.md "Exit codes"). */
export interface Failure {
  code: string
  exit: number
  message: string
  hint?: string
  /** `<what failed>: <why> (<hint>)` */
  line: string
  /** oclif's own exit (this.exit()): nothing to print. */
  silent?: boolean
}

interface OclifError extends Error {
  code?: string
  oclif?: {exit?: number}
  parse?: unknown
}

export function describeFailure(error: Error, {isCheck, command, parsing = false}: {isCheck: boolean; command: string; parsing?: boolean}): Failure {
  const e = error as OclifError
  if (e.code === 'EEXIT' && typeof e.oclif?.exit === 'number') {
    return {code: 'EXIT', exit: e.oclif.exit, message: '', line: '', silent: true}
  }
  const display = command.replaceAll(':', ' ')
  // oclif's parser errors carry `parse`; a few (a flag given twice) are plain CLIErrors thrown while parsing.
  if (e.parse !== undefined || (parsing && !isCimopsError(error))) {
    const why = usageReason(e.message)
    const hint = `see \`cimops ${display} --help\``
    return {code: 'USAGE', exit: ExitCode.USAGE, message: `invalid usage: ${why}`, hint, line: `invalid usage: ${why} (${hint})`}
  }
  if (isCimopsError(error)) {
    // A check keeps usage (64), interrupt (130) and "not found" (2: the thing watched is missing, CRITICAL);
    // any other failure means it could not check at all: UNKNOWN (3).
    const kept = error.exit === ExitCode.USAGE || error.exit === ExitCode.INTERRUPTED || error.code === 'NOT_FOUND'
    return {
      code: error.code,
      exit: isCheck && !kept ? ExitCode.UNKNOWN : error.exit,
      message: error.message,
      hint: error.hint,
      line: error.line,
    }
  }
  const why = firstLine(error.message || String(error))
  const hint = 'run again with --verbose for the stack trace, and please report it'
  return {
    code: 'INTERNAL',
    exit: isCheck ? ExitCode.UNKNOWN : ExitCode.FAILED,
    message: `${display} failed: ${why}`,
    hint,
    line: `${display} failed: ${why} (${hint})`,
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}

/**
 * oclif puts the reason of a parse error under a header line: `Parsing --flag` over the value's
 * problem, `The following error occurred:` over the broken flag rules. One line with both.
 */
function usageReason(message: string): string {
  const lines = message
    .replaceAll(/\u001B\[[\d;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help')
  const [head = '', ...rest] = lines
  if (rest.length === 0) return head
  const parsing = /^Parsing (--\S+)$/.exec(head)
  if (parsing) return `${parsing[1]}: ${rest.join('; ')}`
  if (/^The following errors? occurred:$/.test(head)) return rest.join('; ')
  return `${head} ${rest.join('; ')}`
}

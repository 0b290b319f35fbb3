import {ExitCode, isCimopsError, UsageError} from './errors.js'

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

/** An argument as oclif declares it: what a missing-argument error names. */
export interface ArgumentSpec {
  name: string
  description?: string
  required?: boolean
}

interface InputSpec {
  required?: boolean
}

/**
 * The one-line usage shown with a missing argument: `cimops consumer info [STREAM] CONSUMER [flags]`. A command whose
 * arguments oclif cannot describe (an optional one before a required one) declares `static usage`, as for its help.
 */
export function usageLine(bin: string, command: string, spec: {args?: Record<string, InputSpec>; flags?: Record<string, InputSpec>; usage?: string | string[]}): string {
  const display = command.replaceAll(':', ' ')
  const declared = Array.isArray(spec.usage) ? spec.usage[0] : spec.usage
  if (declared !== undefined) return `${bin} ${display} ${declared.replace('<%= command.id %>', '').trim()}`.trim()
  const args = Object.entries(spec.args ?? {}).map(([name, arg]) => (arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
  const required = Object.entries(spec.flags ?? {})
    .filter(([, flag]) => flag.required)
    .map(([name]) => `--${name} <value>`)
  // Every command has the global flags at least.
  return [bin, display, ...args, ...required, '[flags]'].join(' ')
}

/** `missing argument CONSUMER: consumer name (usage: ...)`: what to add and where it goes. */
export function missingArguments(args: ArgumentSpec[], usage: string): UsageError {
  const named = args.map((arg) => ({name: arg.name.toUpperCase(), description: arg.description && sentenceFragment(arg.description)}))
  const what = named.length === 1 ? `missing argument ${named[0].name}` : `missing arguments ${named.map((arg) => arg.name).join(', ')}`
  const why = named.map((arg) => (named.length === 1 ? arg.description : `${arg.name} is ${arg.description}`) ?? arg.name).join('; ')
  return new UsageError(what, why, {hint: `usage: ${usage}`})
}

export function describeFailure(error: Error, {isCheck, command, parsing = false, usage}: {isCheck: boolean; command: string; parsing?: boolean; usage?: string}): Failure {
  const e = error as OclifError
  if (e.code === 'EEXIT' && typeof e.oclif?.exit === 'number') {
    return {code: 'EXIT', exit: e.oclif.exit, message: '', line: '', silent: true}
  }
  const display = command.replaceAll(':', ' ')
  const missing = requiredArgs(e)
  if (missing && usage !== undefined) return describeFailure(missingArguments(missing, usage), {isCheck, command})
  // oclif's parser errors carry `parse`; a few (a flag given twice) are plain CLIErrors thrown while parsing.
  if (e.parse !== undefined || (parsing && !isCimopsError(error))) {
    const why = unexpectedArguments(e) ?? usageReason(e.message)
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
  const filesystem = filesystemFailure(error)
  if (filesystem) {
    const message = `${display} failed: ${filesystem.why}`
    return {code: 'FILESYSTEM', exit: isCheck ? ExitCode.UNKNOWN : ExitCode.FAILED, message, hint: filesystem.hint, line: `${message} (${filesystem.hint})`}
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

/**
 * What the machine's filesystem answered, by errno: a path, a permission or a full disk the user can
 * fix, not a defect to report. Node's fs errors carry the syscall and the path.
 */
const FILESYSTEM_ERRORS: Record<string, {phrase: string; hint: string}> = {
  ENOENT: {phrase: 'no such file or directory', hint: 'check the path'},
  ENOTDIR: {phrase: 'a part of the path is not a directory', hint: 'check the path'},
  EISDIR: {phrase: 'is a directory', hint: 'check the path'},
  EEXIST: {phrase: 'already exists', hint: 'choose another path'},
  ENAMETOOLONG: {phrase: 'name too long', hint: 'choose a shorter path'},
  ELOOP: {phrase: 'too many symbolic links', hint: 'check the path'},
  EACCES: {phrase: 'permission denied', hint: 'choose a place you may write to, or check its permissions'},
  EPERM: {phrase: 'operation not permitted', hint: 'choose a place you may write to, or check its permissions'},
  EROFS: {phrase: 'read-only file system', hint: 'choose a place on a writable file system'},
  ENOSPC: {phrase: 'no space left on device', hint: 'free some space, or choose another place'},
  EDQUOT: {phrase: 'disk quota exceeded', hint: 'free some space, or choose another place'},
  EMFILE: {phrase: 'too many open files', hint: 'raise the open-file limit (ulimit -n)'},
  EIO: {phrase: 'input/output error', hint: 'check the disk'},
}

/** A filesystem error in words, and what to do about it; undefined for any other error. */
export function filesystemReason(error: unknown): {phrase: string; hint: string} | undefined {
  const {code, syscall, path} = (error ?? {}) as NodeJS.ErrnoException
  const known = code === undefined ? undefined : FILESYSTEM_ERRORS[code]
  return known && typeof syscall === 'string' && typeof path === 'string' ? known : undefined
}

function filesystemFailure(error: Error): {why: string; hint: string} | undefined {
  const known = filesystemReason(error)
  const {syscall, path} = error as NodeJS.ErrnoException
  return known && {why: `${syscall} ${path}: ${known.phrase}`, hint: known.hint}
}

/** oclif's RequiredArgsError, known by shape: oclif does not export its parser errors. */
function requiredArgs(error: OclifError): ArgumentSpec[] | undefined {
  const {args} = error as {args?: unknown}
  if (error.parse === undefined || !/^Missing \d+ required args?\b/.test(error.message) || !Array.isArray(args)) return undefined
  const specs = args.filter((arg): arg is ArgumentSpec => typeof (arg as ArgumentSpec | undefined)?.name === 'string')
  return specs.length > 0 ? specs : undefined
}

/** oclif's UnexpectedArgsError, known by shape; an empty or spaced argument is quoted, or it would read as nothing. */
function unexpectedArguments(error: OclifError): string | undefined {
  const {args} = error as {args?: unknown}
  if (error.parse === undefined || !/^Unexpected arguments?:/.test(error.message) || !Array.isArray(args)) return undefined
  const shown = args.map((arg) => (typeof arg === 'string' && (arg === '' || /\s/.test(arg)) ? JSON.stringify(arg) : String(arg)))
  return `Unexpected argument${shown.length === 1 ? '' : 's'}: ${shown.join(', ')}`
}

/** 'Stream name.' -> 'stream name', to follow a colon mid-line; an acronym keeps its capitals. */
function sentenceFragment(text: string): string {
  const trimmed = text.trim().replace(/\.$/, '')
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed[0].toLowerCase() + trimmed.slice(1) : trimmed
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

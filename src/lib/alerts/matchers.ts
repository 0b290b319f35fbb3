/**
 * Alertmanager label matchers (`name=value`, `name!=value`, `name=~regex`, `name!~regex`), read as
 * Alertmanager 0.27+ reads them in its default fallback mode: both its classic parser (0.25's
 * `pkg/labels/parse.go`, here) and its UTF-8 parser (matcher-utf8.ts) run; where they disagree the
 * classic reading wins and a warning says so; strict mode takes only the UTF-8 reading. Regexes are RE2,
 * anchored as `^(?:<value>)$`. A label that is absent matches as the empty string.
 *
 * Parsing is done here rather than by the server so a bad matcher is a usage error pointing at the
 * character, and so matching can run client-side (silence previews, "matches every alert").
 * Pure: no I/O.
 */
import {UsageError} from '../core/errors.js'
import {edgeBrace, parseUtf8List, parseUtf8Matcher, type Utf8Failure, type Utf8Matcher} from './matcher-utf8.js'

export type MatchOp = '=' | '!=' | '=~' | '!~'

export interface Matcher {
  name: string
  op: MatchOp
  /** Unescaped: the label value, or the regex source without the anchors. */
  value: string
}

/** Alertmanager API v2 form: `(isRegex, isEqual)` = `(f,t)` `=`, `(f,f)` `!=`, `(t,t)` `=~`, `(t,f)` `!~`. */
export interface ApiMatcher {
  name: string
  value: string
  isRegex: boolean
  isEqual: boolean
}

export type Labels = Record<string, string>

/** A bad matcher: a usage error (exit 64) that knows the 1-based column of the offending character. */
export class MatcherSyntaxError extends UsageError {
  readonly matcher: string
  readonly column: number
  readonly reason: string
  constructor(matcher: string, column: number, reason: string) {
    super(`invalid matcher ${JSON.stringify(matcher)}`, `${reason} at column ${column}: ${pointer(matcher, column)}`, {
      hint: 'matchers look like name=value, name!=value, name=~regex or name!~regex; quote values with spaces: name="a b"',
    })
    this.matcher = matcher
    this.column = column
    this.reason = reason
  }
}

const OPS: MatchOp[] = ['=~', '=', '!=', '!~'] // '=~' before '=', as in Alertmanager's parser
const NAME_START = /[a-zA-Z_:]/
const NAME_CHAR = /[a-zA-Z0-9_:]/
/** RE2's `\s`. */
const SPACE = /[\t\n\f\r ]/

/**
 * The matcher text with a caret under the offending character, on one line:
 * `severity>critical` at column 9 becomes `severity⟨>⟩critical`.
 */
function pointer(text: string, column: number): string {
  const chars = Array.from(text)
  const i = column - 1
  if (i >= chars.length) return `${text}⟨⟩ (end of matcher)`
  return `${chars.slice(0, i).join('')}⟨${chars[i]}⟩${chars.slice(i + 1).join('')}`
}

/**
 * `fallback`: as Alertmanager 0.27+ does by default (and 0.25, which has only the classic parser, reads
 * every input the fallback mode accepts alike, braces at the ends aside); `strict`: its UTF-8 parser only
 * (`--enable-feature=utf8-strict-mode`).
 */
export type MatcherMode = 'fallback' | 'strict'

export interface MatcherReading {
  matcher: Matcher
  /** Set when the two parsers disagreed or only the classic one read it: what Alertmanager would log. */
  warning?: string
}

/** Parses one matcher; throws MatcherSyntaxError with the column of the first bad character. */
export function parseMatcher(text: string, mode: MatcherMode = 'fallback'): Matcher {
  return readMatcher(text, mode).matcher
}

/** Parses one matcher as Alertmanager's mode does, with the warning it would log. */
export function readMatcher(text: string, mode: MatcherMode = 'fallback'): MatcherReading {
  const brace = edgeBrace(text)
  if (brace) throw utf8SyntaxError(text, brace)
  const utf8 = readUtf8(text)
  if (mode === 'strict') {
    if ('failure' in utf8) throw utf8SyntaxError(text, utf8.failure)
    return {matcher: utf8.matcher}
  }
  let classic: Matcher
  try {
    classic = parseClassicMatcher(text)
  } catch (error) {
    if (error instanceof MatcherSyntaxError && 'matcher' in utf8) return {matcher: utf8.matcher}
    throw error
  }
  if ('failure' in utf8) {
    const warning = `${text} is not valid in Alertmanager 0.27+'s UTF-8 matcher syntax (${utf8.failure.reason}); read as ${formatMatcher(classic)}, as Alertmanager's default fallback mode does (write that; --strict-matchers refuses such input)`
    return {matcher: classic, warning}
  }
  if (sameMatcher(classic, utf8.matcher)) return {matcher: utf8.matcher}
  const warning = `${text} reads differently in Alertmanager's two matcher syntaxes: classic ${formatMatcher(classic)}, UTF-8 ${formatMatcher(utf8.matcher)}; using the classic reading, as Alertmanager's default fallback mode does (--strict-matchers takes the UTF-8 one)`
  return {matcher: classic, warning}
}

function sameMatcher(a: Matcher, b: Matcher): boolean {
  return a.name === b.name && a.op === b.op && a.value === b.value
}

/** The UTF-8 parser's reading, its regex compiled (a bad regex fails this reading like a bad token). */
function readUtf8(text: string): {matcher: Matcher} | {failure: Utf8Failure} {
  const parsed = parseUtf8Matcher(text)
  return parsed.ok ? checkUtf8(parsed.matcher) : {failure: parsed.failure}
}

function checkUtf8({name, op, value, valueStart}: Utf8Matcher): {matcher: Matcher} | {failure: Utf8Failure} {
  if (op === '=~' || op === '!~') {
    try {
      compileRegex(value)
    } catch (error) {
      return {failure: {index: valueStart, reason: `invalid regular expression: ${regexMessage(error)}`}}
    }
  }
  return {matcher: {name, op, value}}
}

function utf8SyntaxError(text: string, failure: Utf8Failure): MatcherSyntaxError {
  return new MatcherSyntaxError(text, columnOf(text, failure.index), failure.reason)
}

function regexMessage(error: unknown): string {
  return (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
}

/** Alertmanager 0.25's parser (0.27+'s "classic" one). */
function parseClassicMatcher(text: string): Matcher {
  let i = 0
  const fail = (at: number, reason: string): never => {
    throw new MatcherSyntaxError(text, columnOf(text, at), reason)
  }
  const found = (at: number) => (at >= text.length ? 'found the end' : `found ${JSON.stringify(text[at])}`)
  while (i < text.length && SPACE.test(text[i])) i++

  const nameStart = i
  if (i >= text.length || !NAME_START.test(text[i])) fail(i, `expected a label name (letters, digits, _ or :, not starting with a digit), ${found(i)}`)
  while (i < text.length && NAME_CHAR.test(text[i])) i++
  const name = text.slice(nameStart, i)
  while (i < text.length && SPACE.test(text[i])) i++

  const op = OPS.find((candidate) => text.startsWith(candidate, i))
  if (!op) fail(i, `expected one of =, !=, =~, !~ after the label name, ${found(i)}`)
  i += op!.length
  while (i < text.length && SPACE.test(text[i])) i++

  let end = text.length
  while (end > i && SPACE.test(text[end - 1])) end--
  const {value, sourceIndex} = unescapeValue(text, i, end, fail)
  const matcher: Matcher = {name, op: op!, value}
  if (op === '=~' || op === '!~') {
    try {
      compileRegex(value)
    } catch (error) {
      const offset = error instanceof RegexSyntaxError ? error.offset : 0
      fail(sourceIndex[Math.min(offset, sourceIndex.length - 1)] ?? i, `invalid regular expression: ${regexMessage(error)}`)
    }
  }
  return matcher
}

/** An alert name as people write them: letters, digits, `_`, `:`, `.`, `-`. */
const BARE_WORD = /^[\p{L}\p{N}_:.-]+$/u

/**
 * Parses command-line matchers as amtool does: each argument is one matcher, ANDed; when the first
 * one is a bare word, it means `alertname=<word>`. (amtool takes any first argument that fails to parse
 * as an alertname; cimops only takes a word, so `severity>critical` is an error pointing at the `>`.)
 * The warnings are those Alertmanager's fallback mode would log, one line each.
 */
export function parseMatcherArgs(args: readonly string[], mode: MatcherMode = 'fallback'): {matchers: Matcher[]; warnings: string[]} {
  const readings = args.flatMap((arg, index): MatcherReading[] => {
    if (index === 0 && BARE_WORD.test(arg.trim())) return [{matcher: {name: 'alertname', op: '=', value: arg.trim()}}]
    return readMatcherList(arg) ?? [readMatcher(arg, mode)]
  })
  return {matchers: readings.map((reading) => reading.matcher), warnings: readings.flatMap((reading) => reading.warning ?? [])}
}

/**
 * `alertname=X,severity=warning` as the two matchers meant, the way a line of Alertmanager's
 * configuration reads it (amtool's single-matcher reading would make `X,severity=warning` one value);
 * undefined unless the argument is a list of two or more valid matchers.
 */
function readMatcherList(arg: string): MatcherReading[] | undefined {
  if (edgeBrace(arg)) return undefined
  const list = parseUtf8List(arg)
  if (!list.ok || list.matchers.length < 2) return undefined
  const checked = list.matchers.map(checkUtf8)
  return checked.every((reading) => 'matcher' in reading) ? checked.map((reading) => ({matcher: (reading as {matcher: Matcher}).matcher})) : undefined
}

/**
 * Unquotes and unescapes `text[start, end)`, returning the value and, for each UTF-16 unit of the
 * value, its index in `text` (so a regex error can point into the original).
 */
function unescapeValue(text: string, start: number, end: number, fail: (at: number, reason: string) => never): {value: string; sourceIndex: number[]} {
  let i = start
  let quoted = false
  if (text[i] === '"') {
    quoted = true
    i++
  }
  let value = ''
  const sourceIndex: number[] = []
  const push = (chars: string, at: number) => {
    value += chars
    for (let k = 0; k < chars.length; k++) sourceIndex.push(at)
  }
  let closed = false
  while (i < end) {
    const c = text[i]
    if (c === '\\') {
      if (i === end - 1) {
        push('\\', i) // a backslash as the last character is literal
        i++
        continue
      }
      const next = text[i + 1]
      if (next === 'n') push('\n', i)
      else if (next === '"' || next === '\\') push(next, i)
      else push(`\\${next}`, i) // a spurious escape keeps its backslash
      i += 2
      continue
    }
    if (c === '"') {
      if (!quoted || i !== end - 1) fail(i, quoted ? 'unescaped double quote inside the value (write \\")' : 'unescaped double quote in an unquoted value (quote the value and write \\")')
      closed = true
      i++
      continue
    }
    push(c, i)
    i++
  }
  if (quoted && !closed) fail(end, 'missing closing double quote')
  return {value, sourceIndex}
}

/** 1-based column counting code points, so a caret lines up with what the user typed. */
function columnOf(text: string, index: number): number {
  return Array.from(text.slice(0, index)).length + 1
}

/** Runes that end an unquoted name in Alertmanager 0.27+'s syntax (Go's spaces included). */
const NEEDS_QUOTED_NAME = /^$|[\s\u0085{}!=~,\\"'`]/

/**
 * `name="value"` as Alertmanager 0.27+ prints a matcher (amtool shows silences so): the value always
 * quoted, so both of its parsers read it alike; the name quoted only where it must be. parseMatcher
 * gives it back without a warning.
 */
export function formatMatcher(matcher: Matcher): string {
  const name = NEEDS_QUOTED_NAME.test(matcher.name) ? JSON.stringify(matcher.name) : matcher.name
  return `${name}${matcher.op}${quote(matcher.value)}`
}

function quote(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`
}

export function toApiMatcher(matcher: Matcher): ApiMatcher {
  return {name: matcher.name, value: matcher.value, isRegex: matcher.op === '=~' || matcher.op === '!~', isEqual: matcher.op === '=' || matcher.op === '=~'}
}

export function fromApiMatcher(matcher: {name: string; value: string; isRegex: boolean; isEqual?: boolean}): Matcher {
  const equal = matcher.isEqual ?? true
  const op: MatchOp = matcher.isRegex ? (equal ? '=~' : '!~') : equal ? '=' : '!='
  return {name: matcher.name, op, value: matcher.value}
}

/** PromQL's label names; Prometheus 3 takes any other name quoted (2.x cannot have one). */
const PROMQL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A PromQL selector body with the same meaning: PromQL label matchers are RE2 and fully anchored too. */
export function toPromQLMatcher(matcher: Matcher): string {
  // JSON string escapes (\\, \", \n, \uXXXX) are valid PromQL double-quoted string escapes.
  const name = PROMQL_NAME.test(matcher.name) ? matcher.name : JSON.stringify(matcher.name)
  return `${name}${matcher.op}${JSON.stringify(matcher.value)}`
}

export type LabelPredicate = (labels: Labels) => boolean

/** Compiles matchers (ANDed) into a predicate over label sets; an absent label is the empty string. */
export function compileMatchers(matchers: readonly Matcher[]): LabelPredicate {
  const tests = matchers.map((matcher) => {
    const positive = matcher.op === '=' || matcher.op === '=~'
    const regex = matcher.op === '=~' || matcher.op === '!~' ? compileRegex(matcher.value) : undefined
    return (labels: Labels) => {
      const actual = labels[matcher.name] ?? ''
      const hit = regex ? regex.test(actual) : actual === matcher.value
      return hit === positive
    }
  })
  return (labels) => tests.every((test) => test(labels))
}

/** True when the matcher accepts the empty string (an absent label): Alertmanager refuses silences made only of those. */
export function matchesEmpty(matcher: Matcher): boolean {
  return compileMatchers([matcher])({})
}

// ---------------------------------------------------------------------------------------------
// RE2 -> JavaScript regex translation

/** A construct RE2 rejects (so Alertmanager would too), or one this translation cannot express. */
export class RegexSyntaxError extends Error {
  /** Index into the regex source. */
  readonly offset: number
  constructor(message: string, offset: number) {
    super(message)
    this.offset = offset
  }
}

const regexCache = new Map<string, RegExp>()

/**
 * The JavaScript RegExp equivalent of Alertmanager's `^(?:<source>)$` (Go RE2). Translates what differs:
 * leading `(?flags)`, `(?P<name>`, `\A` `\z` `\Q…\E`, `\pL`, POSIX classes, `\s`, octal and `\x{…}`
 * escapes, escaped punctuation and literal braces/brackets; rejects what RE2 rejects (look-around,
 * backreferences). Throws RegexSyntaxError or the engine's SyntaxError.
 */
export function compileRegex(source: string): RegExp {
  const cached = regexCache.get(source)
  if (cached) return cached
  const {pattern, flags} = translateRe2(source)
  const regex = new RegExp(`^(?:${pattern})$`, `u${flags}`)
  regexCache.set(source, regex)
  return regex
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
}
const RE2_SPACE = '\\t\\n\\f\\r '
const FLAG_CHARS: Record<string, string> = {i: 'i', s: 's', m: 'm'}

function hexEscape(char: string): string {
  const code = char.codePointAt(0) ?? 0
  return `\\u{${code.toString(16)}}`
}

function translateRe2(source: string): {pattern: string; flags: string} {
  let i = 0
  let flags = ''
  // Leading flag groups `(?i)`, `(?is)`: JavaScript (Node 20) has no inline modifiers, so they become RegExp flags.
  for (let m = /^\(\?([a-zA-Z-]*)\)/.exec(source.slice(i)); m; m = /^\(\?([a-zA-Z-]*)\)/.exec(source.slice(i))) {
    for (const [k, flag] of Array.from(m[1]).entries()) {
      if (flag === 'U') throw new RegexSyntaxError('the ungreedy flag (?U) is not supported by cimops', i + 2 + k)
      if (!FLAG_CHARS[flag]) throw new RegexSyntaxError(`invalid or unsupported flag ${JSON.stringify(flag)}`, i + 2 + k)
      if (!flags.includes(FLAG_CHARS[flag])) flags += FLAG_CHARS[flag]
    }
    i += m[0].length
  }
  let out = ''
  let inClass = false
  let classStart = -1
  while (i < source.length) {
    const c = source[i]
    if (c === '\\') {
      const [text, length] = translateEscape(source, i, inClass)
      out += text
      i += length
      continue
    }
    if (inClass) {
      if (c === '[' && source[i + 1] === ':') {
        const close = source.indexOf(':]', i + 2)
        const name = close === -1 ? '' : source.slice(i + 2, close)
        const negated = name.startsWith('^')
        const body = POSIX_CLASSES[negated ? name.slice(1) : name]
        if (body === undefined) throw new RegexSyntaxError(`invalid character class range ${JSON.stringify(source.slice(i, close + 2))}`, i)
        if (negated) throw new RegexSyntaxError('negated POSIX classes inside brackets are not supported by cimops', i)
        out += body
        i = close + 2
        continue
      }
      if (c === ']' && i !== classStart) {
        inClass = false
        out += ']'
      } else if (c === ']' || c === '[' || c === '{' || c === '}' || c === '/' || c === '|' || c === '(' || c === ')') {
        out += `\\${c}` // `]` first in a class is literal in RE2
      } else {
        out += c
      }
      i++
      continue
    }
    switch (c) {
      case '[': {
        inClass = true
        out += '['
        i++
        if (source[i] === '^') {
          out += '^'
          i++
        }
        classStart = i
        continue
      }
      case '(': {
        if (source[i + 1] === '?') {
          const rest = source.slice(i + 2)
          if (rest.startsWith(':')) {
            out += '(?:'
            i += 3
          } else if (rest.startsWith('P<')) {
            out += '(?<'
            i += 4
          } else if (rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
            throw new RegexSyntaxError('look-around (?=, (?!, (?<=, (?<! is not supported by RE2', i)
          } else if (rest.startsWith('<')) {
            out += '(?<'
            i += 3
          } else {
            throw new RegexSyntaxError('inline flags are only supported at the start of the regex', i)
          }
          continue
        }
        out += '('
        i++
        continue
      }
      case '{': {
        const repeat = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i))
        if (repeat && out !== '' && !/[|(]$/.test(out)) {
          out += repeat[0]
          i += repeat[0].length
        } else {
          out += '\\{' // RE2 takes a brace that is not a repetition literally; JavaScript's u mode refuses it
          i++
        }
        continue
      }
      case '}':
      case ']': {
        out += `\\${c}`
        i++
        continue
      }
      default: {
        out += c
        i++
      }
    }
  }
  if (inClass) throw new RegexSyntaxError('missing closing ]', source.length)
  return {pattern: out, flags}
}

/** Translates the escape at `source[i]` (a backslash); returns the JavaScript text and the length consumed. */
function translateEscape(source: string, i: number, inClass: boolean): [string, number] {
  const next = source[i + 1]
  if (next === undefined) throw new RegexSyntaxError('trailing backslash at end of expression', i)
  switch (next) {
    case 'A':
      if (inClass) break
      return ['^', 2]
    case 'z':
      if (inClass) break
      return ['$', 2]
    case 'a':
      return ['\\x07', 2]
    case 's':
      return [inClass ? RE2_SPACE : `[${RE2_SPACE}]`, 2]
    case 'S':
      if (inClass) throw new RegexSyntaxError('\\S inside brackets is not supported by cimops', i)
      return [`[^${RE2_SPACE}]`, 2]
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 'f':
    case 't':
    case 'n':
    case 'r':
    case 'v':
      return [`\\${next}`, 2]
    case 'b':
    case 'B':
      if (inClass) break
      return [`\\${next}`, 2]
    case 'Q': {
      const end = source.indexOf('\\E', i + 2)
      const literal = source.slice(i + 2, end === -1 ? undefined : end)
      return [Array.from(literal).map(hexEscape).join(''), (end === -1 ? source.length : end + 2) - i]
    }
    case 'x': {
      const braced = /^\{([0-9a-fA-F]+)\}/.exec(source.slice(i + 2))
      if (braced) return [`\\u{${braced[1]}}`, 2 + braced[0].length]
      const short = /^[0-9a-fA-F]{2}/.exec(source.slice(i + 2))
      if (short) return [`\\x${short[0]}`, 4]
      throw new RegexSyntaxError('invalid escape sequence \\x', i)
    }
    case 'p':
    case 'P': {
      const braced = /^\{(\^?)([A-Za-z_]+)\}/.exec(source.slice(i + 2))
      const single = /^[A-Za-z]/.exec(source.slice(i + 2))
      if (!braced && !single) throw new RegexSyntaxError(`invalid character class \\${next}`, i)
      let negate = next === 'P'
      let name: string
      if (braced) {
        if (braced[1]) negate = !negate
        name = braced[2]
      } else {
        name = single![0]
      }
      const property = /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`
      return [`\\${negate ? 'P' : 'p'}{${property}}`, braced ? 2 + braced[0].length : 3]
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const octal = /^[0-7]{1,3}/.exec(source.slice(i + 1))![0]
      if (next !== '0' && octal.length === 1) throw new RegexSyntaxError(`invalid escape sequence \\${next} (backreferences are not supported by RE2)`, i)
      return [`\\u{${Number.parseInt(octal, 8).toString(16)}}`, 1 + octal.length]
    }
    default:
      break
  }
  // RE2 allows escaping any punctuation; JavaScript's u mode only a few, so write the character by code.
  if (/[\p{P}\p{S}\s]/u.test(next) || (next.charCodeAt(0) < 128 && !/[A-Za-z0-9]/.test(next))) return [hexEscape(next), 2]
  throw new RegexSyntaxError(`invalid escape sequence \\${next}`, i)
}

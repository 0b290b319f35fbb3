/**
 * Alertmanager 0.27+'s UTF-8 matcher parser (`matcher/parse`), for one matcher as amtool and the API's
 * `filter=` read it: `name op value`, where each of name and value is either an unquoted run of
 * characters that are not reserved (so `service.name`, `föö` and `0foo` are names) or a double-quoted
 * string with Go's escapes (`\t`, `\xHH`, `\u00e9`, ...). Whitespace (Go's unicode.IsSpace) around the
 * tokens is ignored and one trailing comma is allowed. Pure: no I/O.
 *
 * It only reads the text; regex compilation and the choice between this and the classic parser live in
 * matchers.ts, which owns the Matcher type.
 */
export type Utf8MatchOp = '=' | '!=' | '=~' | '!~'

export interface Utf8Matcher {
  name: string
  op: Utf8MatchOp
  value: string
  /** Index in the text where the value starts (for pointing at a bad regex). */
  valueStart: number
}

/** Why the text is not a matcher, and where (an index into the text). */
export interface Utf8Failure {
  index: number
  reason: string
}

export type Utf8Result = {ok: true; matcher: Utf8Matcher} | {ok: false; failure: Utf8Failure}

/** Go's unicode.IsSpace: JavaScript's \s without U+FEFF, plus U+0085. */
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/
/** Characters that end an unquoted token (besides space). */
const RESERVED = new Set(['{', '}', '!', '=', '~', ',', '\\', '"', "'", '`'])

type Token =
  | {kind: 'text'; value: string; start: number; end: number; quoted: boolean}
  | {kind: 'op'; op: Utf8MatchOp; start: number; end: number}
  | {kind: 'comma' | 'brace'; start: number; end: number; text: string}

class Failure extends Error {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(reason)
  }
}

/** Parses exactly one matcher the way Alertmanager 0.27+'s UTF-8 parser does (its single-matcher entry). */
export function parseUtf8Matcher(text: string): Utf8Result {
  const brace = edgeBrace(text)
  if (brace) return {ok: false, failure: brace}
  const list = parseUtf8List(text)
  if (!list.ok) return list
  if (list.matchers.length === 1) return {ok: true, matcher: list.matchers[0]}
  return {ok: false, failure: {index: 0, reason: list.matchers.length === 0 ? 'no matcher' : `expected 1 matcher, found ${list.matchers.length}`}}
}

/** A comma-separated list of matchers without braces, as a line of Alertmanager's configuration reads it. */
export function parseUtf8List(text: string): {ok: true; matchers: Utf8Matcher[]} | {ok: false; failure: Utf8Failure} {
  try {
    return {ok: true, matchers: parseTokens(text, tokenize(text))}
  } catch (error) {
    if (error instanceof Failure) return {ok: false, failure: {index: error.index, reason: error.reason}}
    throw error
  }
}

/**
 * Alertmanager 0.27+ refuses a single matcher that starts with `{` or ends with `}` before either of
 * its parsers runs, so not even its fallback mode reads one.
 */
export function edgeBrace(text: string): Utf8Failure | undefined {
  if (!text.startsWith('{') && !text.endsWith('}')) return undefined
  return {
    index: text.startsWith('{') ? 0 : text.length - 1,
    reason: 'a matcher cannot start with { or end with } (Alertmanager 0.27+ refuses it; quote a regex with braces: name=~"a{2}")',
  }
}

function parseTokens(text: string, tokens: Token[]): Utf8Matcher[] {
  const matchers: Utf8Matcher[] = []
  let i = 0
  const describe = (token: Token | undefined) => (token ? `unexpected ${JSON.stringify(text.slice(token.start, token.end))}` : 'end of input')
  while (i < tokens.length) {
    const [name, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]]
    if (name.kind !== 'text') throw new Failure(name.start, `${describe(name)}: expected a label name`)
    if (op?.kind !== 'op') throw new Failure(op?.start ?? text.length, `${describe(op)}: expected one of =, !=, =~, !~`)
    if (value?.kind !== 'text') throw new Failure(value?.start ?? text.length, `${describe(value)}: expected a label value (write name="" for an empty one)`)
    matchers.push({name: name.value, op: op.op, value: value.value, valueStart: value.start + (value.quoted ? 1 : 0)})
    i += 3
    const next = tokens[i]
    if (next === undefined) break
    if (next.kind !== 'comma') throw new Failure(next.start, `${describe(next)}: expected a comma or the end (quote values with spaces: name="a b")`)
    i++
  }
  return matchers
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (SPACE.test(c)) {
      i++
      continue
    }
    const start = i
    if (c === '"') {
      const {value, end} = readQuoted(text, i)
      tokens.push({kind: 'text', value, start, end, quoted: true})
      i = end
    } else if (c === '=' || c === '!') {
      const next = text[i + 1]
      if (c === '=') {
        const op: Utf8MatchOp = next === '~' ? '=~' : '='
        tokens.push({kind: 'op', op, start, end: i + op.length})
        i += op.length
      } else if (next === '=' || next === '~') {
        tokens.push({kind: 'op', op: next === '=' ? '!=' : '!~', start, end: i + 2})
        i += 2
      } else {
        throw new Failure(i, 'unexpected "!": expected != or !~ (quote the value to keep a "!" in it)')
      }
    } else if (c === ',') {
      tokens.push({kind: 'comma', start, end: i + 1, text: c})
      i++
    } else if (c === '{' || c === '}') {
      tokens.push({kind: 'brace', start, end: i + 1, text: c})
      i++
    } else if (RESERVED.has(c)) {
      throw new Failure(i, `unexpected ${JSON.stringify(c)}: quote the value, e.g. name="a${c}b"${c === "'" || c === '`' ? ' (only double quotes quote)' : ''}`)
    } else {
      while (i < text.length && !SPACE.test(text[i]) && !RESERVED.has(text[i])) i++
      tokens.push({kind: 'text', value: text.slice(start, i), start, end: i, quoted: false})
    }
  }
  return tokens
}

const SIMPLE_ESCAPES: Record<string, number> = {a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34}

/**
 * A double-quoted string from text[start] to its closing quote, decoded as Go's strconv.Unquote does:
 * the escapes work on bytes (`\xHH`, octal) or code points (`\u`, `\U`), and the result must be UTF-8.
 */
function readQuoted(text: string, start: number): {value: string; end: number} {
  const bytes: number[] = []
  const encoder = new TextEncoder()
  let i = start + 1
  for (;;) {
    if (i >= text.length) throw new Failure(start, 'missing closing double quote')
    const c = text[i]
    if (c === '"') break
    if (c === '\n') throw new Failure(i, 'a line break inside quotes (write \\n)')
    if (c !== '\\') {
      const code = text.codePointAt(i)!
      const char = String.fromCodePoint(code)
      bytes.push(...encoder.encode(char))
      i += char.length
      continue
    }
    const next = text[i + 1]
    if (next !== undefined && next in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[next])
      i += 2
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16))
      i += 4
    } else if (next !== undefined && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4)) && Number.parseInt(text.slice(i + 1, i + 4), 8) < 256) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 4), 8))
      i += 4
    } else if ((next === 'u' || next === 'U') && new RegExp(`^[0-9a-fA-F]{${next === 'u' ? 4 : 8}}$`).test(text.slice(i + 2, i + (next === 'u' ? 6 : 10)))) {
      const digits = next === 'u' ? 4 : 8
      const code = Number.parseInt(text.slice(i + 2, i + 2 + digits), 16)
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new Failure(i, `invalid escape \\${next}${text.slice(i + 2, i + 2 + digits)}: not a Unicode character`)
      bytes.push(...encoder.encode(String.fromCodePoint(code)))
      i += 2 + digits
    } else {
      throw new Failure(i, `invalid escape ${JSON.stringify(text.slice(i, i + 2))} (Go escapes only: \\\\ \\" \\n \\t \\xHH \\uHHHH ...; a regex's backslash is written \\\\)`)
    }
  }
  try {
    return {value: new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array(bytes)), end: i + 1}
  } catch {
    throw new Failure(start, 'the escapes do not make valid UTF-8')
  }
}

/**
 * Just enough PromQL to lint dashboards and rules without a server: a lexer, the metric names an
 * expression selects, and Grafana's template variables replaced by values Prometheus parses.
 * The real parse is Prometheus's (promtool, or a server's /api/v1/format_query); this is the static half.
 */

export type TokenKind = 'identifier' | 'string' | 'number' | 'punct'

export interface Token {
  kind: TokenKind
  text: string
  /** 0-based offset in the expression. */
  at: number
}

export interface PromqlAnalysis {
  /** Metric names selected (`foo`, `foo{…}`, `{__name__="foo"}`), sorted, once each. */
  metrics: string[]
  /** Why the expression cannot be read (unterminated string, unbalanced brackets, a stray character). */
  error?: string
}

/** Aggregation operators: keywords, never metric names (`sum by (x) (…)` has no `(` right after `sum`). */
const AGGREGATORS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'])
/** Keywords that take a parenthesised list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])
const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'atan2', ...LABEL_LIST_KEYWORDS])
const NUMBER_WORDS = new Set(['inf', 'nan'])

const OPERATORS = ['==', '!=', '<=', '>=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '=', '@', ',', '(', ')', '{', '}', '[', ']', ':']
const CLOSING: Record<string, string> = {'(': ')', '{': '}', '[': ']'}

export class PromqlSyntaxError extends Error {}

/** Tokens of a PromQL expression; comments (`# …`) and whitespace dropped. Throws PromqlSyntaxError. */
export function tokenize(expr: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < expr.length) {
    const c = expr[i]
    if (/\s/.test(c)) {
      i++
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i
      i++
      while (i < expr.length && expr[i] !== c) {
        if (expr[i] === '\n' && c !== '`') throw new PromqlSyntaxError(`unterminated string at ${start + 1}`)
        i += expr[i] === '\\' && c !== '`' ? 2 : 1
      }
      if (i >= expr.length) throw new PromqlSyntaxError(`unterminated string at ${start + 1}`)
      i++
      tokens.push({kind: 'string', text: expr.slice(start, i), at: start})
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(expr[i + 1] ?? ''))) {
      // Numbers and durations alike: 5, 0.5, 1e3, 1e-3, 0x1f, 5m, 1h30m.
      const start = i
      while (i < expr.length && (/[0-9a-zA-Z_.]/.test(expr[i]) || (/[+-]/.test(expr[i]) && /^[0-9.]+[eE]$/.test(expr.slice(start, i))))) i++
      tokens.push({kind: 'number', text: expr.slice(start, i), at: start})
    } else if (/[a-zA-Z_]/.test(c)) {
      const start = i
      while (i < expr.length && /[a-zA-Z0-9_:]/.test(expr[i])) i++
      tokens.push({kind: 'identifier', text: expr.slice(start, i), at: start})
    } else {
      const op = OPERATORS.find((candidate) => expr.startsWith(candidate, i))
      if (!op) throw new PromqlSyntaxError(`unexpected character "${c}" at ${i + 1}`)
      tokens.push({kind: 'punct', text: op, at: i})
      i += op.length
    }
  }
  return tokens
}

/** The metric names an expression selects, and whether its brackets and strings are well formed. */
export function analyzePromql(expr: string): PromqlAnalysis {
  let tokens: Token[]
  try {
    tokens = tokenize(expr)
  } catch (error) {
    return {metrics: [], error: (error as Error).message}
  }
  if (tokens.length === 0) return {metrics: [], error: 'empty expression'}
  const metrics = new Set<string>()
  const open: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    const next = tokens[i + 1]
    if (token.kind === 'punct') {
      if (CLOSING[token.text]) open.push(token)
      if (Object.values(CLOSING).includes(token.text)) {
        const opener = open.pop()
        if (!opener || CLOSING[opener.text] !== token.text) return {metrics: [], error: `unexpected "${token.text}" at ${token.at + 1}`}
      }
      continue
    }
    if (token.kind !== 'identifier') continue
    const inBraces = open.at(-1)?.text === '{'
    if (inBraces) {
      // A label matcher; `__name__="x"` names a metric.
      if (token.text === '__name__' && next?.text === '=' && tokens[i + 2]?.kind === 'string') metrics.add(unquote(tokens[i + 2].text))
      continue
    }
    if (LABEL_LIST_KEYWORDS.has(token.text) && next?.text === '(') {
      // Skip the label list: by (a, b), on (x), group_left (y).
      const close = tokens.findIndex((t, j) => j > i && t.text === ')')
      if (close < 0) return {metrics: [], error: `unclosed "(" at ${next.at + 1}`}
      i = close
      continue
    }
    const lower = token.text.toLowerCase()
    if (next?.text === '(' || AGGREGATORS.has(token.text) || KEYWORDS.has(token.text) || NUMBER_WORDS.has(lower)) continue
    // `@ start()` / `@ end()` are followed by `(`; anything else here is a metric name.
    metrics.add(token.text)
  }
  if (open.length > 0) {
    const last = open.at(-1)!
    return {metrics: [...metrics].sort(), error: `unclosed "${last.text}" at ${last.at + 1}`}
  }
  return {metrics: [...metrics].sort()}
}

function unquote(text: string): string {
  const body = text.slice(1, -1)
  return text.startsWith('`') ? body : body.replaceAll(/\\(.)/g, '$1')
}

/** Grafana's interval variables, as the durations or numbers they become at query time. */
const GRAFANA_BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1h',
  __interval_ms: '60000',
  __range_ms: '3600000',
  __range_s: '3600',
}

const VARIABLE = /\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/y

/**
 * The expression as Prometheus receives it from Grafana, near enough to parse: `$__rate_interval`,
 * `$__range` and friends become durations, a variable inside a string (`{domain=~"$domain"}`) a regex
 * matching anything, one inside a range `[…]` a duration, anywhere else a number.
 */
export function substituteGrafanaVariables(expr: string): string {
  let out = ''
  let quote: string | undefined
  let brackets = 0
  for (let i = 0; i < expr.length; ) {
    const c = expr[i]
    if (quote) {
      if (c === '\\' && quote !== '`') {
        out += expr.slice(i, i + 2)
        i += 2
        continue
      }
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c
    } else if (c === '[' && expr[i + 1] !== '[') {
      brackets++
    } else if (c === ']' && brackets > 0) {
      brackets--
    }
    VARIABLE.lastIndex = i
    const match = c === '$' || (c === '[' && expr[i + 1] === '[') ? VARIABLE.exec(expr) : null
    if (match) {
      const name = match[1] ?? match[2] ?? match[3]
      const builtin = GRAFANA_BUILTINS[name]
      out += quote ? '.*' : builtin ?? (brackets > 0 ? '1m' : '1')
      i += match[0].length
      continue
    }
    out += c
    i++
  }
  return out
}

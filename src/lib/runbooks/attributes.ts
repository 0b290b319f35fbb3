/**
 * Fence info strings: ```` ```sh {"name":"check-consumer","confirm":"true"} ```` (Runme's JSON form) or
 * ```` ```sh { name=check-consumer confirm=true } ```` (its legacy attribute form). JSON is tried first;
 * values are strings in Runme, booleans and numbers are accepted too.
 */
import {formatDuration, MAX_TIMER_MS, parseDuration} from '../core/duration.js'
import {SHELLS, type StepAttributes} from './model.js'

export interface InfoString {
  language: string
  /** The text between the braces, or undefined without attributes. */
  attributesText?: string
}

export function splitInfoString(info: string): InfoString {
  const text = info.trim()
  const brace = text.indexOf('{')
  const head = (brace === -1 ? text : text.slice(0, brace)).trim()
  const language = head.split(/\s+/)[0]?.toLowerCase() ?? ''
  if (brace === -1) return {language}
  const close = text.lastIndexOf('}')
  return {language, attributesText: close > brace ? text.slice(brace, close + 1) : text.slice(brace)}
}

export interface AttributeParse {
  values: Record<string, string>
  syntax: 'json' | 'html' | 'none'
  /** Why the text could not be read. */
  error?: string
}

export function parseAttributes(text: string | undefined): AttributeParse {
  if (text === undefined || text.trim() === '') return {values: {}, syntax: 'none'}
  if (!text.trim().endsWith('}')) return {values: {}, syntax: 'none', error: `unterminated attributes ${text}`}
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {values: {}, syntax: 'json', error: 'attributes must be a JSON object'}
    const values: Record<string, string> = {}
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string') values[key] = value
      else if (typeof value === 'boolean' || typeof value === 'number') values[key] = String(value)
      else return {values, syntax: 'json', error: `attribute "${key}" must be a string`}
    }
    return {values, syntax: 'json'}
  } catch {
    return parseLegacy(text)
  }
}

/** `{ name=x confirm=true description="two words" }` */
function parseLegacy(text: string): AttributeParse {
  const inner = text.trim().replace(/^\{/, '').replace(/\}$/, '')
  const pair = /\s*([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'}]+)\s*/y
  const values: Record<string, string> = {}
  let at = 0
  while (at < inner.length) {
    if (/^\s*$/.test(inner.slice(at))) break
    pair.lastIndex = at
    const match = pair.exec(inner)
    if (!match) return {values, syntax: 'html', error: `cannot read attributes ${text}: expected {"key": "value"} or { key=value }`}
    const raw = match[2]
    values[match[1]] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.startsWith("'") ? raw.slice(1, -1) : raw
    at = pair.lastIndex
  }
  return {values, syntax: 'html'}
}

/** Attributes cimops acts on. */
export const CIMOPS_ATTRIBUTES = ['name', 'description', 'confirm', 'timeout', 'continueOnError', 'excludeFromRunAll', 'cwd', 'interpreter', 'category', 'tag'] as const
/** Runme attributes with no meaning for a cimops run: accepted, ignored. */
export const RUNME_IGNORED_ATTRIBUTES = ['id', 'interactive', 'promptEnv', 'skipPrompts', 'closeTerminalOnSuccess', 'terminalRows', 'mimeType'] as const
/** Runme attributes cimops cannot honour: accepted with a lint warning. */
export const RUNME_UNSUPPORTED_ATTRIBUTES = ['background'] as const

export interface AttributeIssue {
  severity: 'error' | 'warning'
  message: string
}

/** Typed step attributes from the raw strings, with what is wrong with them. */
export function interpretAttributes(raw: Record<string, string>): {attributes: StepAttributes; issues: AttributeIssue[]} {
  const issues: AttributeIssue[] = []
  const bool = (key: string): boolean => {
    const value = raw[key]
    if (value === undefined) return false
    const normal = value.trim().toLowerCase()
    if (['true', 'yes', '1'].includes(normal)) return true
    if (['false', 'no', '0', ''].includes(normal)) return false
    issues.push({severity: 'error', message: `attribute "${key}" must be "true" or "false", not "${value}"`})
    // A confirm we cannot read is a confirm: never run unasked by mistake.
    return key === 'confirm' || key === 'excludeFromRunAll'
  }
  const attributes: StepAttributes = {
    confirm: bool('confirm'),
    continueOnError: bool('continueOnError'),
    excludeFromRunAll: bool('excludeFromRunAll'),
    categories: [...(raw.category ?? '').split(','), ...(raw.tag ?? '').split(',')].map((c) => c.trim()).filter(Boolean),
  }
  if (raw.timeout !== undefined) {
    try {
      const ms = parseDuration(raw.timeout, 'timeout')
      if (ms <= 0) throw new Error('not positive')
      if (ms > MAX_TIMER_MS) issues.push({severity: 'error', message: `attribute "timeout" must be at most ${formatDuration(MAX_TIMER_MS)} (the longest timer Node.js can set), not "${raw.timeout}"`})
      else attributes.timeoutMs = ms
    } catch {
      issues.push({severity: 'error', message: `attribute "timeout" must be a duration such as 30s, 5m or 1h, not "${raw.timeout}"`})
    }
  }
  if (raw.cwd !== undefined && raw.cwd.trim() !== '') attributes.cwd = raw.cwd.trim()
  if (raw.interpreter !== undefined && raw.interpreter.trim() !== '') {
    const shell = raw.interpreter.trim()
    if ((SHELLS as readonly string[]).includes(shell)) attributes.interpreter = shell
    else issues.push({severity: 'error', message: `attribute "interpreter" must be one of ${SHELLS.join(', ')}, not "${shell}"`})
  }
  for (const key of Object.keys(raw)) {
    if ((CIMOPS_ATTRIBUTES as readonly string[]).includes(key) || (RUNME_IGNORED_ATTRIBUTES as readonly string[]).includes(key)) continue
    if ((RUNME_UNSUPPORTED_ATTRIBUTES as readonly string[]).includes(key)) {
      issues.push({severity: 'warning', message: `attribute "${key}" is ignored: cimops runs every step in the foreground, one after the other`})
      continue
    }
    const near = closest(key, [...CIMOPS_ATTRIBUTES, ...RUNME_IGNORED_ATTRIBUTES, ...RUNME_UNSUPPORTED_ATTRIBUTES])
    issues.push({severity: 'error', message: `unknown attribute "${key}"${near ? ` (did you mean "${near}"?)` : ''}`})
  }
  return {attributes, issues}
}

/** The candidate within edit distance 2 (case-insensitive), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]
}

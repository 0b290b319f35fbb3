/**
 * A small, tolerant reader for the XML property-list subset powermetrics prints: dict, array, key, string,
 * integer, real, true/false, date and data. Dates and data stay strings. A duplicate key keeps its last value
 * (powermetrics repeats `idle_ns` and `idle_ratio` with equal values).
 */
import {ParseError} from '../../core/errors.js'
import {decodeEntities} from './xml.js'

export type PlistValue = string | number | boolean | PlistValue[] | PlistDict
export interface PlistDict {
  [key: string]: PlistValue
}

type Token = {type: 'open' | 'close' | 'empty'; name: string} | {type: 'text'; text: string}

export function parsePlist(xml: string): PlistValue {
  const tokens = tokenize(xml)
  let position = 0

  const fail = (why: string): never => {
    throw new ParseError('cannot read the property list', why, {system: 'powermetrics'})
  }
  const skipBlank = (): void => {
    while (position < tokens.length) {
      const token = tokens[position]
      if (token.type !== 'text' || token.text.trim() !== '') return
      position++
    }
  }
  const next = (): Token => {
    skipBlank()
    return tokens[position++] ?? fail('it ends too early')
  }
  const expectClose = (name: string): void => {
    const token = next()
    if (token.type !== 'close' || token.name !== name) fail(`expected </${name}>, found ${describe(token)}`)
  }
  /** Text content up to the closing tag, whitespace kept (it is part of a string). */
  const content = (name: string): string => {
    const token = tokens[position]
    let value = ''
    if (token?.type === 'text') {
      value = decodeEntities(token.text)
      position++
    }
    expectClose(name)
    return value
  }

  const value = (): PlistValue => {
    const token = next()
    if (token.type === 'empty') return emptyValue(token.name) ?? fail(`unexpected <${token.name}/>`)
    if (token.type !== 'open') return fail(`expected a value, found ${describe(token)}`)
    switch (token.name) {
      case 'plist': {
        const inner = value()
        expectClose('plist')
        return inner
      }
      case 'dict':
        return dict()
      case 'array':
        return array()
      case 'integer':
      case 'real':
        return toNumber(content(token.name).trim()) ?? fail(`<${token.name}> holds no number`)
      case 'string':
      case 'date':
      case 'data':
        return content(token.name)
      default:
        return fail(`unsupported element <${token.name}>`)
    }
  }
  const dict = (): PlistDict => {
    const result: PlistDict = {}
    for (;;) {
      const token = next()
      if (token.type === 'close' && token.name === 'dict') return result
      if (token.type !== 'open' || token.name !== 'key') return fail(`expected <key> in a dict, found ${describe(token)}`)
      const key = content('key')
      result[key] = value()
    }
  }
  const array = (): PlistValue[] => {
    const result: PlistValue[] = []
    for (;;) {
      skipBlank()
      const token = tokens[position]
      if (token?.type === 'close' && token.name === 'array') {
        position++
        return result
      }
      result.push(value())
    }
  }

  const root = value()
  skipBlank()
  if (position < tokens.length) fail(`unexpected ${describe(tokens[position])} after the document`)
  return root
}

/** Comments, the XML declaration and the DOCTYPE carry nothing a reader needs. */
function tokenize(xml: string): Token[] {
  const stripped = xml
    .replaceAll(/<!--[\s\S]*?-->/g, '')
    .replaceAll(/<\?[\s\S]*?\?>/g, '')
    .replaceAll(/<!DOCTYPE[^>]*>/gi, '')
  const tokens: Token[] = []
  for (const match of stripped.matchAll(/<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>|([^<]+)/g)) {
    if (match[4] !== undefined) tokens.push({type: 'text', text: match[4]})
    else tokens.push({type: match[1] ? 'close' : match[3] ? 'empty' : 'open', name: match[2]})
  }
  return tokens
}

function emptyValue(name: string): PlistValue | undefined {
  switch (name) {
    case 'true':
      return true
    case 'false':
      return false
    case 'string':
    case 'data':
      return ''
    case 'dict':
      return {}
    case 'array':
      return []
    default:
      return undefined
  }
}

/** powermetrics may print `nan` or `inf` for a real it could not compute. */
function toNumber(text: string): number | undefined {
  const lower = text.toLowerCase()
  if (lower === 'nan') return Number.NaN
  if (lower === 'inf' || lower === '+inf') return Number.POSITIVE_INFINITY
  if (lower === '-inf') return Number.NEGATIVE_INFINITY
  const parsed = text === '' ? Number.NaN : Number(text)
  return Number.isNaN(parsed) ? undefined : parsed
}

function describe(token: Token): string {
  if (token.type === 'text') return `text "${token.text.trim().slice(0, 40)}"`
  return token.type === 'close' ? `</${token.name}>` : token.type === 'empty' ? `<${token.name}/>` : `<${token.name}>`
}

/**
 * Lossless JSON for JetStream configurations and states.
 *
 * The server writes durations in nanoseconds (`max_age`, `duplicate_window`, consumer `ack_wait`), and
 * anything above 2^53 ns (about 104 days) loses digits through JSON.parse. A backup must hand the server
 * back exactly what it gave, so numbers are kept as their source text (JsonNumber) and written back
 * verbatim; callers read them with Number() where a lossy value is fine (counts, sequences).
 */

export class JsonNumber {
  constructor(readonly raw: string) {}
  valueOf(): number {
    return Number(this.raw)
  }
  toString(): string {
    return this.raw
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject
export interface JsonObject {
  [key: string]: JsonValue
}

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`)
    this.name = 'JsonSyntaxError'
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** Parses JSON keeping every number's text. */
export function parseJson(text: string): JsonValue {
  let pos = 0
  const fail = (what: string): never => {
    throw new JsonSyntaxError(what, pos)
  }
  const space = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++
      else break
    }
  }
  const string = (): string => {
    // From the opening quote to the closing one, then let JSON.parse handle the escapes.
    const start = pos
    pos++
    while (pos < text.length) {
      const c = text.charCodeAt(pos)
      if (c === 0x22) {
        pos++
        return JSON.parse(text.slice(start, pos)) as string
      }
      if (c === 0x5c) pos += 2
      else if (c < 0x20) fail('control character in string')
      else pos++
    }
    return fail('unterminated string')
  }
  const value = (depth: number): JsonValue => {
    if (depth > 256) fail('nesting too deep')
    space()
    const c = text[pos]
    if (c === '{') {
      pos++
      const object: JsonObject = {}
      space()
      if (text[pos] === '}') {
        pos++
        return object
      }
      for (;;) {
        space()
        if (text[pos] !== '"') fail('expected a key')
        const key = string()
        space()
        if (text[pos] !== ':') fail('expected ":"')
        pos++
        // defineProperty: a key named __proto__ stays a plain key.
        Object.defineProperty(object, key, {value: value(depth + 1), enumerable: true, writable: true, configurable: true})
        space()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === '}') {
          pos++
          return object
        }
        fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      pos++
      const array: JsonValue[] = []
      space()
      if (text[pos] === ']') {
        pos++
        return array
      }
      for (;;) {
        array.push(value(depth + 1))
        space()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === ']') {
          pos++
          return array
        }
        fail('expected "," or "]"')
      }
    }
    if (c === '"') return string()
    if (text.startsWith('true', pos)) {
      pos += 4
      return true
    }
    if (text.startsWith('false', pos)) {
      pos += 5
      return false
    }
    if (text.startsWith('null', pos)) {
      pos += 4
      return null
    }
    NUMBER.lastIndex = pos
    const match = NUMBER.exec(text)
    if (match) {
      pos += match[0].length
      return new JsonNumber(match[0])
    }
    return fail('unexpected character')
  }
  const result = value(0)
  space()
  if (pos !== text.length) fail('unexpected text after the value')
  return result
}

/** JSON text; `indent` > 0 gives the layout of JSON.stringify(v, null, indent) (and Go's MarshalIndent). */
export function stringifyJson(value: JsonValue, indent = 0): string {
  const parts: string[] = []
  const newline = (depth: number) => (indent > 0 ? `\n${' '.repeat(indent * depth)}` : '')
  const colon = indent > 0 ? ': ' : ':'
  const write = (v: JsonValue, depth: number): void => {
    if (v === null) parts.push('null')
    else if (typeof v === 'boolean') parts.push(v ? 'true' : 'false')
    else if (typeof v === 'string') parts.push(JSON.stringify(v))
    else if (v instanceof JsonNumber) parts.push(v.raw)
    else if (typeof v === 'number') parts.push(Number.isFinite(v) ? String(v) : 'null')
    else if (Array.isArray(v)) {
      if (v.length === 0) return void parts.push('[]')
      parts.push('[')
      v.forEach((item, i) => {
        if (i > 0) parts.push(',')
        parts.push(newline(depth + 1))
        write(item, depth + 1)
      })
      parts.push(newline(depth), ']')
    } else {
      const keys = Object.keys(v)
      if (keys.length === 0) return void parts.push('{}')
      parts.push('{')
      keys.forEach((key, i) => {
        if (i > 0) parts.push(',')
        parts.push(newline(depth + 1), JSON.stringify(key), colon)
        write(v[key], depth + 1)
      })
      parts.push(newline(depth), '}')
    }
  }
  write(value, 0)
  return parts.join('')
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber)
}

/** Ordinary JS values (numbers as numbers, possibly rounded): for reading fields and validating with zod. */
export function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return Number(value.raw)
  if (Array.isArray(value)) return value.map(toPlain)
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlain(item)]))
  return value
}

/** A deep copy, so patches (name, replicas) never touch the caller's tree. */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T
  if (isJsonObject(value)) {
    const copy: JsonObject = {}
    for (const [key, item] of Object.entries(value)) Object.defineProperty(copy, key, {value: cloneJson(item), enumerable: true, writable: true, configurable: true})
    return copy as T
  }
  return value
}

export function jsonNumber(value: number): JsonNumber {
  return new JsonNumber(String(Math.trunc(value)))
}

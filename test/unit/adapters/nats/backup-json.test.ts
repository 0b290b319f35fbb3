import {describe, expect, it} from 'vitest'

import {cloneJson, isJsonObject, JsonNumber, jsonNumber, parseJson, stringifyJson, toPlain} from '../../../../src/lib/adapters/nats/backup-json.js'

describe('lossless JSON for stream configurations', () => {
  it('keeps nanosecond durations above 2^53 digit for digit', () => {
    // max_age of 10 years in ns: JSON.parse would round it.
    const text = '{"config":{"name":"EVENTS","max_age":315360000000000001,"duplicate_window":120000000000},"state":{"messages":3}}'
    expect(JSON.stringify(JSON.parse(text))).not.toContain('315360000000000001')
    const tree = parseJson(text)
    expect(stringifyJson(tree)).toBe(text)
    expect(isJsonObject(tree) && isJsonObject(tree.config) && tree.config.max_age).toEqual(new JsonNumber('315360000000000001'))
  })

  it('writes the 2-space layout of JSON.stringify (natscli backup.json) for ordinary values', () => {
    const value = {config: {name: 'X', subjects: ['a.>', 'b'], sealed: false, mirror: null, sources: [], metadata: {}}, state: {messages: 0, first_ts: '0001-01-01T00:00:00Z', ratio: -1.5e-3}}
    const text = JSON.stringify(value, null, 2)
    expect(stringifyJson(parseJson(text), 2)).toBe(text)
    expect(toPlain(parseJson(text))).toEqual(value)
  })

  it('handles escapes, unicode and nesting', () => {
    const text = String.raw`{"s":"a\"b\\c\n\u00e9✓","n":[1,[2,{"k":true}]],"e":-0.5E+2}`
    expect(toPlain(parseJson(text))).toEqual(JSON.parse(text))
    expect(stringifyJson(parseJson(text))).toBe(JSON.stringify(JSON.parse(text)).replace('-50', '-0.5E+2'))
  })

  it('keeps a key named __proto__ as data', () => {
    const tree = parseJson('{"__proto__":{"x":1}}')
    expect(Object.keys(tree as object)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it('rejects malformed input with a position', () => {
    for (const bad of ['', '{', '{"a":}', '[1,]', '{"a":1}x', '"unterminated', '01']) expect(() => parseJson(bad), bad).toThrow(/position/)
  })

  it('clones deeply, so patching a copy leaves the original alone', () => {
    const tree = parseJson('{"config":{"num_replicas":1,"subjects":["a"]}}')
    const copy = cloneJson(tree)
    if (!isJsonObject(copy) || !isJsonObject(copy.config)) throw new Error('shape')
    copy.config.num_replicas = jsonNumber(3)
    expect(stringifyJson(copy)).toBe('{"config":{"num_replicas":3,"subjects":["a"]}}')
    expect(stringifyJson(tree)).toBe('{"config":{"num_replicas":1,"subjects":["a"]}}')
  })
})

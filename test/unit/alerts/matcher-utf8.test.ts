import {describe, expect, it} from 'vitest'

import {parseUtf8Matcher} from '../../../src/lib/alerts/matcher-utf8.js'

const value = (text: string) => {
  const result = parseUtf8Matcher(text)
  if (!result.ok) throw new Error(`${text}: ${result.failure.reason}`)
  return result.matcher.value
}
const failure = (text: string) => {
  const result = parseUtf8Matcher(text)
  if (result.ok) throw new Error(`${text} parsed`)
  return result.failure
}

describe("Alertmanager 0.27+'s UTF-8 matcher grammar", () => {
  it("decodes Go's escapes: bytes for \\x and octal, code points for \\u and \\U", () => {
    expect(value(String.raw`x="\a\b\f\n\r\t\v\\\""`)).toBe('\u0007\b\f\n\r\t\v\\"')
    expect(value(String.raw`x="\360\237\231\202"`)).toBe('🙂')
    expect(value(String.raw`x="\U0001F642 caf\u00e9"`)).toBe('🙂 café')
    expect(value('x="raw\ttab"')).toBe('raw\ttab') // a raw tab is fine, a raw line feed is not
  })

  it('refuses what strconv.Unquote refuses, pointing at the escape', () => {
    expect(failure(String.raw`x="a\qb"`)).toMatchObject({index: 4, reason: expect.stringMatching(/invalid escape "\\\\q"/)})
    expect(failure(String.raw`x="\ud800"`).reason).toMatch(/not a Unicode character/)
    expect(failure(String.raw`x="\xff"`).reason).toMatch(/do not make valid UTF-8/)
    expect(failure(String.raw`x="\400"`).reason).toMatch(/invalid escape/)
    expect(failure('x="open').reason).toMatch(/missing closing double quote/)
  })

  it("Go's spaces separate tokens (NBSP, U+3000), and one trailing comma is allowed", () => {
    expect(parseUtf8Matcher('\u00a0name\u3000=\u2003"v" ,')).toEqual({ok: true, matcher: {name: 'name', op: '=', value: 'v', valueStart: 9}})
    expect(failure('x=a,,').reason).toMatch(/expected a label name/)
  })

  it('the four operators, and a lone ! or ~ is an error', () => {
    expect(['a=b', 'a!=b', 'a=~b', 'a!~b'].map((text) => parseUtf8Matcher(text).ok && (parseUtf8Matcher(text) as {matcher: {op: string}}).matcher.op)).toEqual(['=', '!=', '=~', '!~'])
    expect(failure('a!b').index).toBe(1)
    expect(failure('a~b').reason).toMatch(/unexpected "~"/)
  })
})

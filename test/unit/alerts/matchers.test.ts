import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/core/errors.js'
import {
  compileMatchers,
  compileRegex,
  formatMatcher,
  fromApiMatcher,
  matchesEmpty,
  MatcherSyntaxError,
  parseMatcher,
  parseMatcherArgs,
  toApiMatcher,
  toPromQLMatcher,
  type Matcher,
} from '../../../src/lib/alerts/matchers.js'

function syntaxError(text: string): MatcherSyntaxError {
  try {
    parseMatcher(text)
  } catch (error) {
    expect(error).toBeInstanceOf(MatcherSyntaxError)
    return error as MatcherSyntaxError
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`)
}

describe('parseMatcher: valid matchers (Alertmanager 0.25 pkg/labels semantics)', () => {
  it.each<[string, Matcher]>([
    ['foo=bar', {name: 'foo', op: '=', value: 'bar'}],
    ['foo!=bar', {name: 'foo', op: '!=', value: 'bar'}],
    ['foo=~bar.*', {name: 'foo', op: '=~', value: 'bar.*'}],
    ['foo!~bar.*', {name: 'foo', op: '!~', value: 'bar.*'}],
    ['  foo  =  bar  ', {name: 'foo', op: '=', value: 'bar'}],
    ['foo="bar baz"', {name: 'foo', op: '=', value: 'bar baz'}],
    ['foo=" padded "', {name: 'foo', op: '=', value: ' padded '}],
    ['foo=bar baz', {name: 'foo', op: '=', value: 'bar baz'}],
    ['foo=', {name: 'foo', op: '=', value: ''}],
    ['foo=""', {name: 'foo', op: '=', value: ''}],
    ['foo="say \\"hi\\""', {name: 'foo', op: '=', value: 'say "hi"'}],
    ['foo="a\\nb"', {name: 'foo', op: '=', value: 'a\nb'}],
    ['foo="back\\\\slash"', {name: 'foo', op: '=', value: 'back\\slash'}],
    // A spurious escape keeps its backslash, so regex escapes survive quoting.
    ['foo=~"a\\.b"', {name: 'foo', op: '=~', value: 'a\\.b'}],
    ['foo=trailing\\', {name: 'foo', op: '=', value: 'trailing\\'}],
    ['foo==bar', {name: 'foo', op: '=', value: '=bar'}],
    ['foo=~=bar', {name: 'foo', op: '=~', value: '=bar'}],
    ['a:b_c9=x', {name: 'a:b_c9', op: '=', value: 'x'}],
    ['_x="ünï cødé"', {name: '_x', op: '=', value: 'ünï cødé'}],
  ])('%s', (text, expected) => {
    expect(parseMatcher(text)).toEqual(expected)
  })

  it('formatMatcher gives text that parses back to the same matcher', () => {
    for (const value of ['plain', 'with space', 'q"uote', 'back\\slash', 'new\nline', '', 'a\\.b']) {
      for (const op of ['=', '!=', '=~', '!~'] as const) {
        const matcher: Matcher = {name: 'l', op, value}
        if (op.includes('~')) {
          try {
            compileRegex(value)
          } catch {
            continue
          }
        }
        expect(parseMatcher(formatMatcher(matcher))).toEqual(matcher)
      }
    }
  })
})

describe('parseMatcher: invalid matchers point at the character', () => {
  it.each<[string, number, RegExp]>([
    ['severity>critical', 9, /expected one of =, !=, =~, !~.*found ">"/],
    ['=foo', 1, /expected a label name.*found "="/],
    ['9lives=x', 1, /expected a label name/],
    ['foo', 4, /expected one of.*found the end/],
    ['foo bar=baz', 5, /expected one of.*found "b"/],
    ['foo="a"b"', 7, /unescaped double quote inside the value/],
    ['foo=a"b', 6, /unescaped double quote in an unquoted value/],
    ['foo="open', 10, /missing closing double quote/],
    ['', 1, /expected a label name.*found the end/],
    ['foo=~"(crit"', 7, /invalid regular expression/],
    ['foo=~"x(?=y)"', 8, /look-around/],
    ['foo=~"(a)\\1"', 10, /backreferences/],
    ['foo=~"a(?i)b"', 8, /inline flags are only supported at the start/],
  ])('%j fails at column %d', (text, column, reason) => {
    const error = syntaxError(text)
    expect(error).toBeInstanceOf(UsageError)
    expect(error.exit).toBe(64)
    expect(error.column).toBe(column)
    expect(error.reason).toMatch(reason)
    expect(error.message).toContain(`at column ${column}`)
  })

  it('the message shows the matcher with the offending character marked', () => {
    expect(syntaxError('severity>critical').why).toMatch(/at column 9: severity⟨>⟩critical$/)
    expect(syntaxError('foo').why).toMatch(/at column 4: foo⟨⟩ \(end of matcher\)$/)
  })

  it('columns count characters, not UTF-16 units', () => {
    expect(syntaxError('x="😀"y"').column).toBe(5)
  })
})

describe('parseMatcherArgs', () => {
  it('a bare first word is alertname=<word>', () => {
    expect(parseMatcherArgs(['HighEventLag', 'domain=graph'])).toEqual([
      {name: 'alertname', op: '=', value: 'HighEventLag'},
      {name: 'domain', op: '=', value: 'graph'},
    ])
    expect(parseMatcherArgs(['cim:lag.high-1'])).toEqual([{name: 'alertname', op: '=', value: 'cim:lag.high-1'}])
  })

  it('only the first argument gets that treatment', () => {
    expect(() => parseMatcherArgs(['domain=graph', 'HighEventLag'])).toThrowError(MatcherSyntaxError)
  })

  it('a first argument that is not a word is parsed as a matcher, so typos are errors', () => {
    expect(() => parseMatcherArgs(['severity>critical'])).toThrowError(/column 9/)
  })

  it('no arguments, no matchers', () => {
    expect(parseMatcherArgs([])).toEqual([])
  })
})

describe('matching', () => {
  const labels = {alertname: 'HighEventLag', severity: 'critical', domain: 'graph', instance: 'node-1.example:9100'}
  const matches = (...texts: string[]) => compileMatchers(texts.map(parseMatcher))(labels)

  it('equality and inequality', () => {
    expect(matches('severity=critical')).toBe(true)
    expect(matches('severity=Critical')).toBe(false)
    expect(matches('severity!=warning')).toBe(true)
  })

  it('regexes are fully anchored', () => {
    expect(matches('domain=~gra')).toBe(false)
    expect(matches('domain=~gra.*')).toBe(true)
    expect(matches('domain=~"raph"')).toBe(false)
    expect(matches('domain=~"graph|workflow"')).toBe(true)
    // Anchoring wraps the whole alternation, not just its ends.
    expect(matches('domain=~"gr|xx"')).toBe(false)
    expect(matches('domain!~"graph|workflow"')).toBe(false)
  })

  it('an absent label is the empty string', () => {
    expect(matches('team=')).toBe(true)
    expect(matches('team!=')).toBe(false)
    expect(matches('team=~".*"')).toBe(true)
    expect(matches('team!~".+"')).toBe(true)
    expect(matches('team=~".+"')).toBe(false)
  })

  it('matchers are ANDed', () => {
    expect(matches('severity=critical', 'domain=graph')).toBe(true)
    expect(matches('severity=critical', 'domain=workflow')).toBe(false)
    expect(compileMatchers([])(labels)).toBe(true)
  })

  it('RE2 constructs are translated', () => {
    expect(matches('severity=~"(?i)CRIT.*"')).toBe(true)
    expect(matches('instance=~"node-\\d\\.example:\\d+"')).toBe(true)
    expect(matches('instance=~"node-1\\.example\\:9100"')).toBe(true) // escaped punctuation is fine in RE2
    expect(matches('instance=~"[[:alpha:]]+-[[:digit:]].*"')).toBe(true)
    expect(matches('domain=~"\\Qgra\\E.*"')).toBe(true)
    expect(matches('domain=~"(?P<d>graph)"')).toBe(true)
    expect(matches('domain=~"\\pL+"')).toBe(true)
    expect(matches('domain=~"\\x67raph"')).toBe(true)
    expect(matches('domain=~"g{1}raph"')).toBe(true)
    expect(matches('domain=~"{graph}"')).toBe(false) // a literal brace in RE2
    expect(compileMatchers([parseMatcher('x=~"{a}"')])({x: '{a}'})).toBe(true)
    expect(compileMatchers([parseMatcher('x=~"[]a]+"')])({x: ']a]'})).toBe(true)
    expect(compileMatchers([parseMatcher('x=~"a\\sb"')])({x: 'a\u00a0b'})).toBe(false) // RE2's \s is ASCII
    expect(compileMatchers([parseMatcher('x=~"a.b"')])({x: 'a\nb'})).toBe(false)
    expect(compileMatchers([parseMatcher('x=~"(?s)a.b"')])({x: 'a\nb'})).toBe(true)
  })

  it('matchesEmpty tells which matchers accept an absent label', () => {
    expect(matchesEmpty(parseMatcher('foo=~".*"'))).toBe(true)
    expect(matchesEmpty(parseMatcher('foo!=bar'))).toBe(true)
    expect(matchesEmpty(parseMatcher('foo=bar'))).toBe(false)
    expect(matchesEmpty(parseMatcher('foo=~".+"'))).toBe(false)
  })
})

describe('conversions', () => {
  it('to and from the Alertmanager API form', () => {
    const cases: Array<[string, {isRegex: boolean; isEqual: boolean}]> = [
      ['a=b', {isRegex: false, isEqual: true}],
      ['a!=b', {isRegex: false, isEqual: false}],
      ['a=~b', {isRegex: true, isEqual: true}],
      ['a!~b', {isRegex: true, isEqual: false}],
    ]
    for (const [text, flags] of cases) {
      const matcher = parseMatcher(text)
      expect(toApiMatcher(matcher)).toEqual({name: 'a', value: 'b', ...flags})
      expect(fromApiMatcher(toApiMatcher(matcher))).toEqual(matcher)
    }
    expect(fromApiMatcher({name: 'a', value: 'b', isRegex: false})).toEqual({name: 'a', op: '=', value: 'b'})
  })

  it('to a PromQL label matcher with escaped string', () => {
    expect(toPromQLMatcher(parseMatcher('domain=~"a\\.b|c"'))).toBe('domain=~"a\\\\.b|c"')
    expect(toPromQLMatcher(parseMatcher('summary="say \\"hi\\""'))).toBe('summary="say \\"hi\\""')
  })
})

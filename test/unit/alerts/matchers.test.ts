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
  readMatcher,
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

/**
 * Alertmanager 0.27+'s fallback and strict modes, row by row from the readings measured on 0.25, 0.33.1
 * fallback and 0.33.1 strict (../shared/reference/matchers-and-thresholds.md 1.6). A value is what both
 * modes store; `warn` says the fallback mode logs (and reads the classic way); an Error is a refusal.
 */
describe('matchers as Alertmanager 0.27+ reads them', () => {
  type Reading = {value: string; name?: string; warn?: 'incompatible' | 'disagreement'} | RegExp
  const rows: Array<[string, Reading, Reading]> = [
    [' foo = bar ', {value: 'bar'}, {value: 'bar'}],
    ['foo=', {value: '', warn: 'incompatible'}, /expected a label value/],
    ['foo=bar baz', {value: 'bar baz', warn: 'incompatible'}, /unexpected "baz"/],
    ['foo=~[a-z]+', {value: '[a-z]+'}, {value: '[a-z]+'}],
    ['foo=~"\\d+"', {value: '\\d+', warn: 'incompatible'}, /invalid escape/],
    ['foo=~"\\\\d+"', {value: '\\d+'}, {value: '\\d+'}],
    ['foo=~\\d+', {value: '\\d+', warn: 'incompatible'}, /unexpected "\\\\"/],
    ['foo="a\\tb"', {value: 'a\\tb', warn: 'disagreement'}, {value: 'a\tb'}],
    ['foo="\\xf0\\x9f\\x99\\x82"', {value: '\\xf0\\x9f\\x99\\x82', warn: 'disagreement'}, {value: '🙂'}],
    ['foo="caf\\u00e9"', {value: 'caf\\u00e9', warn: 'disagreement'}, {value: 'café'}],
    ['foo="a\\nb"', {value: 'a\nb'}, {value: 'a\nb'}],
    ['foo="a\nb"', {value: 'a\nb', warn: 'incompatible'}, /line break inside quotes/],
    ["foo='bar'", {value: "'bar'", warn: 'incompatible'}, /only double quotes quote/],
    ['foo="\\\'"', {value: "\\'", warn: 'incompatible'}, /invalid escape/],
    ['service.name=api', {name: 'service.name', value: 'api'}, {name: 'service.name', value: 'api'}],
    ['"service.name"=api', {name: 'service.name', value: 'api'}, {name: 'service.name', value: 'api'}],
    ['0foo=bar', {name: '0foo', value: 'bar'}, {name: '0foo', value: 'bar'}],
    ['föö=bar', {name: 'föö', value: 'bar'}, {name: 'föö', value: 'bar'}],
    ['foo-bar=x', {name: 'foo-bar', value: 'x'}, {name: 'foo-bar', value: 'x'}],
    ['{foo=bar}', /cannot start with \{ or end with \}/, /cannot start with \{ or end with \}/],
    ['foo=bar}', /cannot start with \{ or end with \}/, /cannot start with \{ or end with \}/],
    ['foo=~a{2}', /quote a regex with braces/, /quote a regex with braces/],
    ['foo=bar,', {value: 'bar,', warn: 'disagreement'}, {value: 'bar'}],
    ['foo=bar,baz=qux', {value: 'bar,baz=qux', warn: 'incompatible'}, /expected 1 matcher, found 2/],
    ['foo="a"  ,', {value: 'a'}, {value: 'a'}],
    ['foo==bar', {value: '=bar', warn: 'incompatible'}, /expected a label value/],
    ['foo=b!ar', {value: 'b!ar', warn: 'incompatible'}, /unexpected "!"/],
    ['foo="bar"baz', /unescaped double quote/, /expected a comma or the end/],
    ['foo=bar\u00a0', {value: 'bar\u00a0', warn: 'disagreement'}, {value: 'bar'}],
    ['""=x', {name: '', value: 'x'}, {name: '', value: 'x'}],
  ]

  const check = (text: string, mode: 'fallback' | 'strict', expected: Reading) => {
    if (expected instanceof RegExp) {
      expect(() => readMatcher(text, mode)).toThrowError(MatcherSyntaxError)
      expect(() => readMatcher(text, mode)).toThrowError(expected)
      return
    }
    const {matcher, warning} = readMatcher(text, mode)
    expect(matcher).toEqual({name: expected.name ?? 'foo', op: matcher.op, value: expected.value})
    const warned = {incompatible: /is not valid in Alertmanager 0.27\+'s UTF-8 matcher syntax/, disagreement: /reads differently in Alertmanager's two matcher syntaxes/}
    if (expected.warn) expect(warning).toMatch(warned[expected.warn])
    else expect(warning).toBeUndefined()
  }

  it.each(rows)('%j: fallback, as Alertmanager by default', (text, fallback) => check(text, 'fallback', fallback))
  it.each(rows)('%j: --strict-matchers', (text, _fallback, strict) => check(text, 'strict', strict))

  it('the fallback warning suggests the portable spelling; strict mode points at the character', () => {
    expect(readMatcher('foo=').warning).toContain('read as foo=""')
    const error = (() => {
      try {
        readMatcher('foo=bar baz', 'strict')
      } catch (caught) {
        return caught as MatcherSyntaxError
      }
    })()!
    expect(error.column).toBe(9)
    expect(error.why).toContain('foo=bar ⟨b⟩az')
  })

  it('parseMatcherArgs collects the warnings, one per matcher', () => {
    const {matchers, warnings} = parseMatcherArgs(['HighEventLag', 'team=', 'foo=bar,'])
    expect(matchers.map((m) => m.value)).toEqual(['HighEventLag', '', 'bar,'])
    expect(warnings).toHaveLength(2)
    expect(() => parseMatcherArgs(['HighEventLag', 'team='], 'strict')).toThrowError(MatcherSyntaxError)
  })

  it('formatMatcher quotes a name only where it must, as Alertmanager 0.27+ prints it, and reads back without a warning', () => {
    const cases: Array<[Matcher, string]> = [
      [{name: 'service.name', op: '=', value: 'api'}, 'service.name="api"'],
      [{name: 'a b', op: '!=', value: 'x'}, '"a b"!="x"'],
      [{name: '', op: '=~', value: '.+'}, '""=~".+"'],
      [{name: 'föö', op: '=', value: 'tab\there'}, 'föö="tab\there"'],
    ]
    for (const [matcher, text] of cases) {
      expect(formatMatcher(matcher)).toBe(text)
      expect(readMatcher(text)).toEqual({matcher})
    }
  })

  it('toPromQLMatcher quotes names outside PromQL\'s charset, as Prometheus 3 requires', () => {
    expect(toPromQLMatcher({name: 'service.name', op: '=', value: 'api'})).toBe('"service.name"="api"')
    expect(toPromQLMatcher({name: 'a:b', op: '=~', value: 'x|y'})).toBe('"a:b"=~"x|y"')
    expect(toPromQLMatcher({name: 'domain', op: '!=', value: 'graph'})).toBe('domain!="graph"')
  })
})

describe('parseMatcherArgs', () => {
  it('a bare first word is alertname=<word>', () => {
    expect(parseMatcherArgs(['HighEventLag', 'domain=graph']).matchers).toEqual([
      {name: 'alertname', op: '=', value: 'HighEventLag'},
      {name: 'domain', op: '=', value: 'graph'},
    ])
    expect(parseMatcherArgs(['cim:lag.high-1']).matchers).toEqual([{name: 'alertname', op: '=', value: 'cim:lag.high-1'}])
  })

  it('only the first argument gets that treatment', () => {
    expect(() => parseMatcherArgs(['domain=graph', 'HighEventLag'])).toThrowError(MatcherSyntaxError)
  })

  it('a first argument that is not a word is parsed as a matcher, so typos are errors', () => {
    expect(() => parseMatcherArgs(['severity>critical'])).toThrowError(/column 9/)
  })

  it('one argument holding a comma-separated list is those matchers, as a line of Alertmanager configuration reads it', () => {
    expect(parseMatcherArgs(['alertname=X,severity=warning'])).toEqual({
      matchers: [
        {name: 'alertname', op: '=', value: 'X'},
        {name: 'severity', op: '=', value: 'warning'},
      ],
      warnings: [],
    })
    expect(parseMatcherArgs(['HighEventLag', 'domain=~"graph|workflow", severity!=info']).matchers).toHaveLength(3)
    // A comma inside quotes is the value's; a single trailing comma is still Alertmanager's one-matcher reading.
    expect(parseMatcherArgs(['summary="a, b=c"']).matchers).toEqual([{name: 'summary', op: '=', value: 'a, b=c'}])
    expect(parseMatcherArgs(['foo=bar,']).matchers).toEqual([{name: 'foo', op: '=', value: 'bar,'}])
    expect(() => parseMatcherArgs(['domain=graph,severity'])).not.toThrow() // not a list: the classic reading, value "graph,severity"
  })

  it('no arguments, no matchers', () => {
    expect(parseMatcherArgs([])).toEqual({matchers: [], warnings: []})
  })
})

describe('matching', () => {
  const labels = {alertname: 'HighEventLag', severity: 'critical', domain: 'graph', instance: 'node-1.example:9100'}
  const matches = (...texts: string[]) => compileMatchers(texts.map((text) => parseMatcher(text)))(labels)

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

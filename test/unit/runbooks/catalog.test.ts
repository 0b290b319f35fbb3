import {describe, expect, it} from 'vitest'

import {catalogFrom, checkCimopsCommand} from '../../../src/lib/runbooks/catalog.js'
import {simpleCommands} from '../../../src/lib/runbooks/shell-words.js'

const words = (line: string) => simpleCommands(line)[0].words

describe('simpleCommands', () => {
  const texts = (script: string) => simpleCommands(script).map((c) => `${c.line}: ${c.words.map((w) => (w.dynamic ? `<${w.text}>` : w.text)).join(' ')}`)

  it('splits on operators, strips keywords and assignments, keeps quoted words whole', () => {
    expect(texts('if [ -z "$X" ]; then X=$(cimops consumer report --json | jq -r .name); fi\nFOO=1 cimops health-check || true')).toEqual([
      '1: [ -z <$X> ]',
      '1: cimops consumer report --json',
      '1: jq -r .name',
      '2: cimops health-check',
      '2: true',
    ])
    expect(texts(`echo 'a | b; c' "d && e"`)).toEqual(['1: echo a | b; c d && e'])
  })

  it('follows continuations, skips comments, redirections and here-documents', () => {
    const script = ['# cimops not-a-command', 'cimops stream report \\', '  --sort bytes 2>&1 > /tmp/out # trailing', 'cat <<EOF', 'cimops inside heredoc', 'EOF', 'cimops events view'].join('\n')
    expect(texts(script)).toEqual(['2: cimops stream report --sort bytes', '4: cat', '7: cimops events view'])
  })

  it('marks expansions as dynamic', () => {
    expect(words('cimops events view ${STREAM:-EVENTS} --domain "$D" --last 5 *.md')).toEqual([
      {text: 'cimops', dynamic: false},
      {text: 'events', dynamic: false},
      {text: 'view', dynamic: false},
      {text: '${STREAM:-EVENTS}', dynamic: true},
      {text: '--domain', dynamic: false},
      {text: '$D', dynamic: true},
      {text: '--last', dynamic: false},
      {text: '5', dynamic: false},
      {text: '*.md', dynamic: true},
    ])
  })
})

const catalog = catalogFrom([
  {id: 'health-check', strict: true, args: {}, flags: {format: {name: 'format', type: 'option', options: ['table', 'nagios']}, watch: {name: 'watch', type: 'boolean'}, json: {name: 'json', type: 'boolean'}}},
  {id: 'consumer:info', strict: true, args: {stream: {name: 'stream', required: true}, consumer: {name: 'consumer', required: true}}, flags: {}},
  {id: 'alerts:silence:add', strict: false, args: {matcher: {name: 'matcher'}}, flags: {duration: {name: 'duration', type: 'option', char: 'd'}, yes: {name: 'yes', type: 'boolean', char: 'y'}}},
  {id: 'incident:declare', strict: true, args: {}, flags: {title: {name: 'title', type: 'option', required: true}, color: {name: 'color', type: 'boolean', allowNo: true}}},
])
const check = (line: string) => checkCimopsCommand(catalog, words(line).slice(1))

describe('checkCimopsCommand', () => {
  it('accepts real commands with valid flags, values and arguments', () => {
    expect(check('cimops health-check --format nagios --watch --json')).toEqual({ok: true, id: 'health-check'})
    expect(check('cimops health-check --format=$FMT')).toEqual({ok: true, id: 'health-check'})
    expect(check('cimops consumer info EVENTS "$CONSUMER"')).toEqual({ok: true, id: 'consumer:info'})
    expect(check('cimops alerts silence add alertname=X domain=y -d 1h -y')).toEqual({ok: true, id: 'alerts:silence:add'})
    expect(check('cimops incident declare --title "x" --no-color')).toEqual({ok: true, id: 'incident:declare'})
    expect(check('cimops consumer info --help')).toEqual({ok: true, id: 'consumer:info'})
  })

  it('rejects what oclif would reject, saying why', () => {
    expect(check('cimops consumer report EVENTS')).toMatchObject({ok: false, kind: 'unknown-command', message: '"consumer report" is not a command of topic consumer: cimops consumer report EVENTS'})
    expect(check('cimops gpu status')).toMatchObject({ok: false, kind: 'unknown-command', message: '"gpu status" is not a cimops command: cimops gpu status'})
    expect(check('cimops health-check --fromat nagios')).toMatchObject({kind: 'bad-usage', message: 'cimops health-check: unknown flag --fromat (did you mean --format?)'})
    expect(check('cimops health-check --format xml')).toMatchObject({message: 'cimops health-check: --format must be one of table, nagios, not "xml"'})
    expect(check('cimops health-check --watch=yes')).toMatchObject({message: 'cimops health-check: --watch takes no value'})
    expect(check('cimops health-check --format')).toMatchObject({message: 'cimops health-check: --format needs a value'})
    expect(check('cimops health-check extra')).toMatchObject({message: 'cimops health-check: unexpected argument extra (takes none)'})
    expect(check('cimops consumer info EVENTS')).toMatchObject({message: 'cimops consumer info: missing argument CONSUMER'})
    expect(check('cimops incident declare')).toMatchObject({message: 'cimops incident declare: missing required flag --title'})
    expect(check('cimops health-check -x')).toMatchObject({message: 'cimops health-check: unknown flag -x'})
    expect(check('cimops health-check --no-watch')).toMatchObject({message: 'cimops health-check: unknown flag --no-watch (--watch cannot be negated)'})
  })

  it('a dynamic word may be several arguments or none', () => {
    expect(check('cimops health-check $EXTRA')).toEqual({ok: true, id: 'health-check'})
    expect(check('cimops consumer info $BOTH')).toMatchObject({ok: false, message: 'cimops consumer info: missing argument CONSUMER'})
  })
})

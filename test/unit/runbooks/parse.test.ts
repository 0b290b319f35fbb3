import {parse as parseYaml} from 'yaml'
import {describe, expect, it} from 'vitest'

import {parseAttributes, splitInfoString} from '../../../src/lib/runbooks/attributes.js'
import {splitFrontMatter} from '../../../src/lib/runbooks/front-matter.js'
import {inferName, parseRunbook} from '../../../src/lib/runbooks/parse.js'

const parse = (text: string, path = '/rb/sample.md') => parseRunbook(path, text, {parseYaml})
const errors = (text: string) => parse(text).problems.filter((p) => p.severity === 'error').map((p) => p.message)

const SAMPLE = `---
id: sample
title: Sample runbook
alerts: [HighEventProcessingLag, EventStreamStalled]
tags: events
params:
  - name: STREAM
    description: the stream
    default: EVENTS
    pattern: '[A-Z]+'
  - name: TOKEN
    secret: true
---
# Sample

First paragraph of the runbook.

## Meaning

Something.

## Diagnosis

Check the consumers:
they may lag.

\`\`\`sh {"name": "consumer-report", "continueOnError": "true", "timeout": "30s"}
$ cimops consumer report "$STREAM"
\`\`\`

\`\`\`yaml
not: a step
\`\`\`

\`\`\`bash { name=legacy confirm=true excludeFromRunAll="true" }
echo legacy
\`\`\`

## Mitigation

~~~sh
kubectl scale deployment cim-graph --replicas=5
~~~

\`\`\`sh
kubectl scale deployment cim-graph --replicas=3
\`\`\`
`

describe('parseRunbook', () => {
  it('reads front matter, sections and steps with their attributes and descriptions', () => {
    const {runbook, problems} = parse(SAMPLE)
    expect(problems).toEqual([])
    expect(runbook).toMatchObject({
      id: 'sample',
      title: 'Sample runbook',
      description: 'First paragraph of the runbook.',
      alerts: ['HighEventProcessingLag', 'EventStreamStalled'],
      tags: ['events'],
      params: [
        {name: 'STREAM', description: 'the stream', default: 'EVENTS', pattern: '[A-Z]+', required: false, secret: false},
        {name: 'TOKEN', required: false, secret: true},
      ],
      declared: {id: true, title: true},
    })
    expect(runbook!.sections.map((s) => `${s.level}:${s.title}`)).toEqual(['1:Sample', '2:Meaning', '2:Diagnosis', '2:Mitigation'])
    const steps = runbook!.steps
    expect(steps.map((s) => [s.index, s.name, s.nameSource, s.language, s.section])).toEqual([
      [1, 'consumer-report', 'attribute', 'sh', 'Diagnosis'],
      [2, 'legacy', 'attribute', 'bash', 'Diagnosis'],
      [3, 'kubectl-scale', 'inferred', 'sh', 'Mitigation'],
      [4, 'kubectl-scale-2', 'inferred', 'sh', 'Mitigation'],
    ])
    expect(steps[0]).toMatchObject({
      script: 'cimops consumer report "$STREAM"',
      description: 'Check the consumers: they may lag.',
      attributes: {confirm: false, continueOnError: true, excludeFromRunAll: false, timeoutMs: 30_000, categories: []},
      line: 27,
    })
    expect(steps[1]).toMatchObject({description: '', attributes: {confirm: true, excludeFromRunAll: true}, rawAttributes: {name: 'legacy', confirm: 'true', excludeFromRunAll: 'true'}})
  })

  it('defaults id to the file name and title to the first heading; a single string is a list', () => {
    const {runbook, problems} = parse('---\nalerts: GpuThermalThrottling\n---\n# GPU too hot\n', '/x/gpu-hot.md')
    expect(problems).toEqual([])
    expect(runbook).toMatchObject({id: 'gpu-hot', title: 'GPU too hot', alerts: ['GpuThermalThrottling'], declared: {id: false, title: false}})
  })

  it('a file without front matter is a document, not a runbook', () => {
    expect(parse('# Notes\n\n```sh\necho hi\n```\n')).toEqual({problems: [], notRunbook: true})
  })

  it('front matter errors name the key and what was expected', () => {
    expect(errors('---\nalerts: [unclosed\n---\n')[0]).toMatch(/^bad front matter: /)
    expect(errors('---\nalerts: {a: 1}\n---\n')).toEqual(['front matter "alerts" must be a list of alert names'])
    expect(errors('---\nid: Not_A_Slug\nowner: x\nrunbook_url: y\n---\n')).toEqual([
      'id: "id" must be lowercase letters, digits and dashes, e.g. high-event-lag',
      'unknown front matter key "runbook_url"',
    ])
    expect(errors('---\nparams:\n  - name: 1BAD\n  - name: PATH\n  - name: X\n    secret: true\n    default: hunter2\n  - name: Y\n    pattern: "[a-z]+"\n    default: ABC\n  - name: Z\n    pattern: "("\n  - name: W\n    type: string\n---\n')).toEqual([
      'params.0.name: a parameter name must be an environment variable name: letters, digits and _, not starting with a digit',
      'params.1.name: parameter name "PATH" is reserved: steps and the programs they run (cimops, nats, the shell) read it from the environment',
      'params.2.default: a secret parameter cannot have a default: the file is not a secret store',
      'params.3.default: the default does not match the pattern',
      'params.4.pattern: the pattern is not a valid regular expression',
      'params.5: unknown parameter key "type"',
    ])
  })

  it('reports unknown and unreadable attributes, duplicate and bad step names', () => {
    const text = [
      '---\nid: x\n---',
      '```sh {"name": "a", "confim": "true"}\necho\n```',
      '```sh {"name": "a", "timeout": "soon", "continueOnError": "maybe"}\necho\n```',
      '```sh {"name": "has space", "interpreter": "python3"}\necho\n```',
      '```sh {"name": "bg", "background": "true", "interactive": "false", "id": "01HF"}\necho\n```',
      '```sh {"name": broken}\necho\n```',
    ].join('\n')
    const {runbook, problems} = parse(text)
    expect(problems.map((p) => `${p.severity}:${p.line}:${p.message}`)).toEqual([
      'error:4:unknown attribute "confim" (did you mean "confirm"?)',
      'error:7:step name "a" is used twice',
      'error:7:attribute "continueOnError" must be "true" or "false", not "maybe"',
      'error:7:attribute "timeout" must be a duration such as 30s, 5m or 1h, not "soon"',
      'error:10:step name "has space" must be letters, digits, \'.\', \'_\' and \'-\' (it is typed on the command line: --step NAME)',
      'error:10:attribute "interpreter" must be one of bash, sh, zsh, dash, not "python3"',
      'warning:13:attribute "background" is ignored: cimops runs every step in the foreground, one after the other',
      'error:16:cannot read attributes {"name": broken}: expected {"key": "value"} or { key=value }',
    ])
    expect(runbook!.steps).toHaveLength(5)
  })

  it('an unreadable confirm still asks: a typo never runs a step unasked', () => {
    const {runbook} = parse('---\nid: x\n---\n```sh {"confirm": "ja"}\nrm -rf /tmp/x\n```\n')
    expect(runbook!.steps[0].attributes.confirm).toBe(true)
  })
})

describe('attributes', () => {
  it('splits the language from the attributes', () => {
    expect(splitInfoString('sh {"name":"x"}')).toEqual({language: 'sh', attributesText: '{"name":"x"}'})
    expect(splitInfoString('BASH{ name=x }')).toEqual({language: 'bash', attributesText: '{ name=x }'})
    expect(splitInfoString('sh')).toEqual({language: 'sh'})
    expect(splitInfoString('')).toEqual({language: ''})
  })

  it('reads JSON (strings, booleans, numbers) and the legacy key=value form', () => {
    expect(parseAttributes('{"name":"x","confirm":true,"terminalRows":20}')).toEqual({syntax: 'json', values: {name: 'x', confirm: 'true', terminalRows: '20'}})
    expect(parseAttributes(`{ name=restart-api interactive=false description="two words" other='single q' }`)).toEqual({
      syntax: 'html',
      values: {name: 'restart-api', interactive: 'false', description: 'two words', other: 'single q'},
    })
    expect(parseAttributes(undefined)).toEqual({syntax: 'none', values: {}})
  })
})

describe('names and front matter', () => {
  it('infers names like Runme: first command line, two words, before =', () => {
    expect(inferName('# comment\n\ncimops consumer report EVENTS', 1)).toBe('cimops-consumer')
    expect(inferName('STREAM=EVENTS cimops x', 1)).toBe('stream')
    expect(inferName('curl -s "http://localhost:9091/metrics?a=b"', 1)).toBe('curl-s')
    expect(inferName('   \n# only a comment', 3)).toBe('step-3')
  })

  it('finds where the body starts', () => {
    expect(splitFrontMatter('---\nid: x\n---\nbody\n')).toEqual({yaml: 'id: x', body: 'body\n', bodyLine: 4})
    expect(splitFrontMatter('no front matter')).toEqual({body: 'no front matter', bodyLine: 1})
  })
})

import {parse as parseYaml} from 'yaml'
import {describe, expect, it} from 'vitest'

import {parseParamFlags, resolveParams, secretMasker, visibleParams} from '../../../src/lib/runbooks/params.js'
import {parseRunbook} from '../../../src/lib/runbooks/parse.js'

const runbook = parseRunbook(
  '/rb/p.md',
  `---
id: p
params:
  - name: STREAM
    default: EVENTS
    pattern: '[A-Z_]+'
  - name: CONSUMER
    description: the projection
    required: true
  - name: TOKEN
    description: API token
    secret: true
  - name: NOTE
---
`,
  {parseYaml},
).runbook!

describe('runbook parameters', () => {
  it('parses --param NAME=VALUE, keeping = in values', () => {
    expect([...parseParamFlags(['A=1', 'B=x=y', 'C='])]).toEqual([['A', '1'], ['B', 'x=y'], ['C', '']])
    expect(() => parseParamFlags(['novalue'])).toThrow(/invalid --param "novalue": expected NAME=VALUE/)
  })

  it("the context's value beats the default, and a flag or CIMOPS_PARAM_<NAME> beats the context's", async () => {
    const context = {STREAM: 'CTX_EVENTS', NOTE: 'from context'}
    const params = await resolveParams(runbook, {given: new Map([['CONSUMER', 'c'], ['NOTE', 'flag']]), env: {}, context})
    expect(params.find((p) => p.name === 'STREAM')).toEqual({name: 'STREAM', value: 'CTX_EVENTS', source: 'context', secret: false})
    expect(params.find((p) => p.name === 'NOTE')).toMatchObject({value: 'flag', source: 'flag'})
    const fromEnv = await resolveParams(runbook, {given: new Map([['CONSUMER', 'c']]), env: {CIMOPS_PARAM_STREAM: 'ENV_EVENTS'}, context})
    expect(fromEnv.find((p) => p.name === 'STREAM')).toMatchObject({value: 'ENV_EVENTS', source: 'env'})
  })

  it('flag beats CIMOPS_PARAM_<NAME> beats default; unset optional ones are empty', async () => {
    const params = await resolveParams(runbook, {given: new Map([['consumer', 'graph-search']]), env: {CIMOPS_PARAM_STREAM: 'OTHER', CIMOPS_PARAM_TOKEN: 'tok-1234'}})
    expect(params).toEqual([
      {name: 'STREAM', value: 'OTHER', source: 'env', secret: false},
      {name: 'CONSUMER', value: 'graph-search', source: 'flag', secret: false},
      {name: 'TOKEN', value: 'tok-1234', source: 'env', secret: true},
      {name: 'NOTE', value: '', source: 'unset', secret: false},
    ])
    expect(visibleParams(params)).toEqual({STREAM: 'OTHER', CONSUMER: 'graph-search', TOKEN: '***', NOTE: ''})
  })

  it('asks for a missing required value on a terminal, refuses without one', async () => {
    const asked: string[] = []
    const params = await resolveParams(runbook, {given: new Map(), env: {}, ask: async (p) => (asked.push(p.name), 'typed')})
    expect(asked).toEqual(['CONSUMER'])
    expect(params.find((p) => p.name === 'CONSUMER')).toMatchObject({value: 'typed', source: 'prompt'})
    await expect(resolveParams(runbook, {given: new Map(), env: {}})).rejects.toMatchObject({exit: 64, line: 'runbook p needs CONSUMER: CONSUMER: the projection (pass --param CONSUMER=VALUE)'})
  })

  it('refuses unknown names, values that do not match, and secrets too short to mask, without echoing a secret', async () => {
    const given = (pairs: Record<string, string>) => new Map(Object.entries({CONSUMER: 'c', ...pairs}))
    await expect(resolveParams(runbook, {given: given({NOPE: '1'}), env: {}})).rejects.toThrow('runbook p has no parameter "NOPE": its parameters are STREAM, CONSUMER, TOKEN, NOTE')
    await expect(resolveParams(runbook, {given: given({STREAM: 'lower; rm -rf /'}), env: {}})).rejects.toThrow('invalid value for parameter STREAM: "lower; rm -rf /" does not match [A-Z_]+')
    const error = await resolveParams(runbook, {given: given({TOKEN: 'ab'}), env: {}}).catch((e: Error) => e)
    expect(String(error)).toMatch(/a secret must be at least 4 characters/)
    expect(String(error)).not.toContain('ab"')
  })

  it('masks secret values wherever they appear', async () => {
    const params = await resolveParams(runbook, {given: new Map([['CONSUMER', 'c'], ['TOKEN', 's3cr3t-value']]), env: {}})
    const mask = secretMasker(params)
    expect(mask('Authorization: Bearer s3cr3t-value, again s3cr3t-value')).toBe('Authorization: Bearer ***, again ***')
    expect(mask('nothing here')).toBe('nothing here')
  })
})

import {afterEach, describe, expect, it} from 'vitest'

import {clearRegisteredSecrets, MASK, redact, redactString, registerSecret} from '../../../src/lib/core/redact.js'

afterEach(() => clearRegisteredSecrets())

describe('redactString', () => {
  it.each([
    ['nats://alice:s3cr3t@n1:4222', 'nats://alice:***@n1:4222'],
    ['connect to nats://mytoken123@n1:4222 failed', 'connect to nats://***@n1:4222 failed'],
    ['http://admin:hunter22@prom:9090/api', 'http://admin:***@prom:9090/api'],
    ['Authorization: Bearer abc.def-ghi', 'Authorization: Bearer ***'],
    ['GET /x?token=abcdef&x=1', 'GET /x?token=***&x=1'],
    ['password=hunter2 at the start', 'password=*** at the start'],
    ['https://hooks.slack.com/services/T000/B000/XXXXXXXX', 'https://hooks.slack.com/services/***'],
    ['seed SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY', 'seed ***'],
    ['jwt eyJhbGciOiJlZDI1NTE5In0.eyJzdWIiOiJVQSJ9.c2lnbmF0dXJl end', 'jwt *** end'],
  ])('masks %s', (input, expected) => {
    expect(redactString(input)).toBe(expected)
  })

  it('leaves ordinary text alone', () => {
    const text = 'cannot reach nats at nats://127.0.0.1:4222: connection refused (is it running?)'
    expect(redactString(text)).toBe(text)
  })

  it('masks registered secrets wherever they appear', () => {
    registerSecret('pa55word-xyz')
    expect(redactString('auth failed for pa55word-xyz')).toBe(`auth failed for ${MASK}`)
  })

  it('masks a creds file body', () => {
    const creds = '-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QifQ.e30.sig\n------END NATS USER JWT------'
    expect(redactString(creds)).not.toContain('eyJ0eXAi')
  })
})

describe('redact', () => {
  it('masks secret-named keys deeply and redacts strings, without touching the input', () => {
    const input = {nats: {servers: ['nats://u:p4ss@h:4222'], password: 'p4ss', token: 'tok', creds: '/home/a.creds'}, list: [{apiKey: 'k'}], n: 3}
    const out = redact(input)
    expect(out).toEqual({nats: {servers: ['nats://u:***@h:4222'], password: MASK, token: MASK, creds: '/home/a.creds'}, list: [{apiKey: MASK}], n: 3})
    expect(input.nats.password).toBe('p4ss')
  })

  it('copies an object shared by two branches, and only marks real cycles', () => {
    const labels = {severity: 'critical'}
    const cyclic: Record<string, unknown> = {name: 'loop'}
    cyclic.self = cyclic
    expect(redact({a: labels, b: [labels, labels]})).toEqual({a: labels, b: [labels, labels]})
    expect(redact(cyclic)).toEqual({name: 'loop', self: '[circular]'})
  })
})

import {describe, expect, it} from 'vitest'

import {auditSubject, buildAuditEvent} from '../../../src/lib/audit/event.js'

const base = {command: 'alerts:silence:add', startedAt: new Date('2026-11-22T03:00:00Z'), finishedAt: new Date('2026-11-22T03:00:01.250Z'), exitCode: 0}

describe('audit events', () => {
  it('record who, when, what, outcome and duration', () => {
    const event = buildAuditEvent({...base, argv: ['alertname=Foo', '--duration', '2h', '--comment', 'maintenance'], actor: 'alice'})
    expect(event).toMatchObject({
      type: 'OperatorActionRecorded',
      command: 'alerts silence add',
      actor: {user: 'alice'},
      at: '2026-11-22T03:00:00.000Z',
      args: ['alertname=Foo', '--duration', '2h', '--comment', 'maintenance'],
      outcome: 'success',
      exitCode: 0,
      durationSeconds: 1.25,
    })
    expect(event.actor.host).toBeTruthy()
    expect(event.id).toMatch(/^[\da-f-]{36}$/)
  })

  it('never carry secrets: secret flags, passwords in URLs, tokens', () => {
    const event = buildAuditEvent({
      ...base,
      exitCode: 69,
      argv: ['--nats-url', 'nats://ops:hunter22@n1:4222', '--token', 's3cr3t-tok', '--password=pw-123456', 'x?token=abcdef'],
      error: 'cannot reach nats at nats://ops:hunter22@n1:4222',
    })
    const text = JSON.stringify(event)
    for (const secret of ['hunter22', 's3cr3t-tok', 'pw-123456', 'abcdef']) expect(text).not.toContain(secret)
    expect(event.args).toEqual(['--nats-url', 'nats://ops:***@n1:4222', '--token', '***', '--password=***', 'x?token=***'])
    expect(event.outcome).toBe('failure')
  })

  it('marks Ctrl-C as interrupted', () => {
    expect(buildAuditEvent({...base, argv: [], exitCode: 130}).outcome).toBe('interrupted')
  })

  it('publishes on one subject token per command', () => {
    expect(auditSubject('alerts silence add')).toBe('cim.ops.audit.alerts-silence-add')
    expect(auditSubject('restore')).toBe('cim.ops.audit.restore')
  })
})

import {randomUUID} from 'node:crypto'

import type {CommandRun} from '../core/audit-hook.js'
import {resolveActor} from '../core/actor.js'
import {redact, redactString} from '../core/redact.js'

/** One operator action, as published on `cim.ops.audit.<command>` (and spooled locally when NATS is away). */
export interface AuditEvent {
  id: string
  type: 'OperatorActionRecorded'
  /** Command id with spaces, e.g. `alerts silence add`. */
  command: string
  actor: {user: string; host: string}
  /** RFC 3339 start of the command. */
  at: string
  /** The command line after `cimops`, secrets masked. */
  args: string[]
  outcome: 'success' | 'failure' | 'interrupted'
  exitCode: number
  error?: string
  durationSeconds: number
  context?: string
}

/** The run the base command hands over (core's contract), with the context it ran against. */
export interface AuditInput extends CommandRun {
  context?: string
}

/** Flag values that are secrets whatever they look like. */
const SECRET_FLAGS = /^--?(password|token|secret|creds-data|webhook|routing-key|api-key)(=|$)/i

export function buildAuditEvent(input: AuditInput): AuditEvent {
  return redact({
    id: randomUUID(),
    type: 'OperatorActionRecorded',
    command: input.command.replaceAll(':', ' '),
    actor: resolveActor(input.actor),
    at: input.startedAt.toISOString(),
    args: maskSecretFlags(input.argv).map((arg) => redactString(arg)),
    outcome: input.exitCode === 0 ? 'success' : input.exitCode === 130 ? 'interrupted' : 'failure',
    exitCode: input.exitCode,
    ...(input.error ? {error: redactString(input.error)} : {}),
    durationSeconds: Math.round((input.finishedAt.getTime() - input.startedAt.getTime())) / 1000,
    ...(input.context ? {context: input.context} : {}),
  })
}

/** `cim.ops.audit.<command>` with the command's words joined by dashes, one subject token. */
export function auditSubject(command: string): string {
  return `cim.ops.audit.${command.replaceAll(/[:\s]+/g, '-').replaceAll(/[^\w-]/g, '_')}`
}

function maskSecretFlags(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const match = SECRET_FLAGS.exec(arg)
    if (!match) {
      out.push(arg)
    } else if (match[2] === '=') {
      out.push(`${arg.slice(0, arg.indexOf('=') + 1)}***`)
    } else {
      out.push(arg, '***')
      i++
    }
  }
  return out
}

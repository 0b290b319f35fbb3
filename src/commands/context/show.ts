import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import type {ResolvedContext} from '../../lib/core/context-types.js'
import {resolveContext} from '../../lib/core/context.js'
import {formatDuration} from '../../lib/core/duration.js'
import {redact} from '../../lib/core/redact.js'

/** JSON view: durations in seconds, like every --json result. */
export type ContextView = Omit<ResolvedContext, 'timeoutMs'> & {timeoutSeconds: number}

export default class ContextShow extends BaseCommand<typeof ContextShow> {
  static summary = 'Show the effective settings and where each came from'
  static description = 'Resolves flags, environment, the context and built-in defaults (in that order of precedence) exactly as every other command does. Secrets are shown as ***.'
  static examples = [
    '<%= config.bin %> context show',
    '<%= config.bin %> context show prod --json',
    'NATS_URL=nats://10.0.0.5:4222 <%= config.bin %> context show   # see the env override win',
  ]
  static args = {name: Args.string({description: 'context to show (default: the one in effect)'})}

  async run(): Promise<ContextView> {
    const resolved = redact(await resolveContext({...this.connectionFlags(), context: this.args.name ?? this.flags.context}))
    const n = resolved.nats
    const auth = n.creds ? `creds ${n.creds}` : n.nkey ? `nkey ${n.nkey}` : n.token ? 'token ***' : n.user ? `user ${n.user}, password ${n.password ? '***' : '(none)'}` : 'none'
    const lines: Array<[string, string]> = [
      ['context', resolved.name ?? '(none: built-in defaults)'],
      ['nats', `${n.servers.join(', ')}  [${resolved.sources.nats}${n.natsContext ? `: ${n.natsContext}` : ''}]`],
      ['nats auth', auth],
      ['nats tls', n.tls ? [n.tls.caFile && `ca ${n.tls.caFile}`, n.tls.certFile && `cert ${n.tls.certFile}`, n.tls.handshakeFirst && 'tls first'].filter(Boolean).join(', ') || 'on' : 'off'],
      ['prometheus', `${resolved.prometheus.url}  [${resolved.sources.prometheus}]`],
      ['alertmanager', `${resolved.alertmanager.url}  [${resolved.sources.alertmanager}]`],
      ['streams', `events ${resolved.streams.events}, ops ${resolved.streams.ops}`],
      ['thresholds', `lag ${resolved.thresholds.lagWarn}s/${resolved.thresholds.lagCrit}s, memory ${resolved.thresholds.memWarn}%/${resolved.thresholds.memCrit}% used, disk ${resolved.thresholds.diskFreeWarn}%/${resolved.thresholds.diskFreeCrit}% free, rpo ${formatDuration(resolved.thresholds.rpoWarnSeconds * 1000)}/${formatDuration(resolved.thresholds.rpoCritSeconds * 1000)}`],
      ['timeout', formatDuration(resolved.timeoutMs)],
    ]
    const width = Math.max(...lines.map(([k]) => k.length))
    this.print(lines.map(([k, v]) => `${this.style.dim(k.padEnd(width))}  ${v}`).join('\n'))
    const {timeoutMs, ...rest} = resolved
    return {...rest, timeoutSeconds: timeoutMs / 1000}
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import type {ContextConfigInput} from '../../lib/core/config.js'
import {withoutUndefined} from '../../lib/core/objects.js'
import {type SaveContextResult, saveContext} from '../../lib/contexts/service.js'

export default class ContextAdd extends BaseCommand<typeof ContextAdd> {
  static summary = 'Add (or with --force replace) a context'
  static description = `Stores the addresses given with the global flags (--nats-url, --nats-creds, --nats-context, --prometheus-url, --alertmanager-url, --timeout) under NAME in the config file (~/.config/cimops/config.yaml, or $CIMOPS_CONFIG).
For user/password or token authentication, keep the secret in a natscli context and reference it with --nats-context, or edit the file (it is written with mode 600).`
  static examples = [
    '<%= config.bin %> context add prod --nats-url nats://n1:4222,nats://n2:4222 --nats-creds ~/.nkeys/ops.creds --prometheus-url http://prom:9090 --alertmanager-url http://am:9093 --use',
    '<%= config.bin %> context add staging --nats-context staging --lag-warn 30s --lag-crit 2m',
  ]
  static args = {name: Args.string({description: 'context name (letters, digits, -, _, .)', required: true})}
  static flags = {
    description: Flags.string({summary: 'Free text shown by `context list`.'}),
    nkey: Flags.string({summary: 'NATS nkey seed file.'}),
    'tls-cert': Flags.string({summary: 'Client certificate for NATS TLS.'}),
    'tls-key': Flags.string({summary: 'Client key for NATS TLS.'}),
    'tls-ca': Flags.string({summary: 'CA bundle for NATS TLS.'}),
    'events-stream': Flags.string({summary: 'Stream holding domain events [default: EVENTS].'}),
    'ops-stream': Flags.string({summary: 'Stream holding the ops log [default: CIM_OPS].'}),
    'lag-warn': Flags.string({summary: 'Consumer lag warning threshold [default: 10s].'}),
    'lag-crit': Flags.string({summary: 'Consumer lag critical threshold [default: 60s].'}),
    use: Flags.boolean({summary: 'Make it the current context.'}),
    force: Flags.boolean({summary: 'Replace an existing context of the same name.'}),
  }

  async run(): Promise<SaveContextResult> {
    const f = this.flags
    const tls = f['tls-cert'] || f['tls-key'] || f['tls-ca'] ? withoutUndefined({cert: f['tls-cert'], key: f['tls-key'], ca: f['tls-ca']}) : undefined
    const nats = withoutUndefined({servers: f['nats-url']?.split(',').map((s) => s.trim()), creds: f['nats-creds'], nkey: f.nkey, natsContext: f['nats-context'], tls})
    const streams = withoutUndefined({events: f['events-stream'], ops: f['ops-stream']})
    const thresholds = withoutUndefined({lagWarn: f['lag-warn'], lagCrit: f['lag-crit']})
    const context: ContextConfigInput = withoutUndefined({
      description: f.description,
      nats: Object.keys(nats).length > 0 ? nats : undefined,
      prometheus: f['prometheus-url'] ? {url: f['prometheus-url']} : undefined,
      alertmanager: f['alertmanager-url'] ? {url: f['alertmanager-url']} : undefined,
      streams: Object.keys(streams).length > 0 ? streams : undefined,
      thresholds: Object.keys(thresholds).length > 0 ? thresholds : undefined,
      timeout: f.timeout,
    })
    const result = await saveContext(this.args.name, context, {use: f.use, replace: f.force})
    this.print(`${result.created ? 'Added' : 'Replaced'} context ${this.style.bold(result.name)} in ${result.file}${result.current ? ' (current)' : ''}.`)
    return result
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {importNatsContext} from '../../lib/contexts/service.js'

export default class ContextImportNats extends BaseCommand<typeof ContextImportNats> {
  static summary = 'Create a cimops context from a natscli context'
  static description = 'Reads ~/.config/nats/context/NAME.json (or a file path) and copies its URL, credentials, nkey, user/password, token, TLS files, JetStream domain and inbox prefix. Without NAME, the context selected in natscli is used.'
  static examples = ['<%= config.bin %> context import-nats prod --use', '<%= config.bin %> context import-nats ./ops.json --as ops']
  static args = {natsContext: Args.string({description: 'natscli context name or file (default: natscli\'s selected context)'})}
  static flags = {
    as: Flags.string({summary: 'Name of the cimops context [default: the natscli context name].'}),
    use: Flags.boolean({summary: 'Make it the current context.'}),
    force: Flags.boolean({summary: 'Replace an existing cimops context of the same name.'}),
  }

  async run(): Promise<Awaited<ReturnType<typeof importNatsContext>>> {
    const result = await importNatsContext(this.args.natsContext, {as: this.flags.as, use: this.flags.use, replace: this.flags.force})
    this.print(`Imported natscli context ${result.natsContext} (${result.natsContextFile}) as ${this.style.bold(result.name)}${result.current ? ' (current)' : ''}.`)
    return result
  }
}

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {cimopsDataDir} from '../../lib/core/paths.js'

export default class SandboxDown extends BaseCommand<typeof SandboxDown> {
  static summary = 'Stop the sandbox servers and remove their state'
  static description = 'Stops every server the sandbox started and deletes its state directory (configs, data, logs). Nothing running is not an error.'
  static examples = ['<%= config.bin %> sandbox down']
  static flags = {'state-dir': Flags.string({summary: 'Where configs, data, logs and state live.', hidden: true})}

  async run(): Promise<{stopped: string[]}> {
    const {sandboxDown, defaultSandboxDir} = await import('../../lib/sandbox/index.js')
    const result = await sandboxDown(this.flags['state-dir'] ?? defaultSandboxDir(cimopsDataDir()))
    this.print(result.stopped.length > 0 ? `Stopped ${result.stopped.join(', ')}.` : 'No sandbox running.')
    return result
  }
}

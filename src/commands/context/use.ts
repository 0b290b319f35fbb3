import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {useContext} from '../../lib/contexts/service.js'

export default class ContextUse extends BaseCommand<typeof ContextUse> {
  static summary = 'Make a context the current one'
  static examples = ['<%= config.bin %> context use prod', 'CIMOPS_CONTEXT=staging <%= config.bin %> health-check   # one command only']
  static args = {name: Args.string({description: 'context name', required: true})}

  async run(): Promise<{file: string; current: string; previous?: string}> {
    const result = await useContext(this.args.name)
    this.print(`Current context is now ${this.style.bold(result.current)}${result.previous && result.previous !== result.current ? ` (was ${result.previous})` : ''}.`)
    return result
  }
}

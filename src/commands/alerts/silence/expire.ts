import {Args} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../../lib/core/base-command.js'
import {UsageError} from '../../../lib/core/errors.js'
import type {ExpireResult} from '../../../lib/alerts/silences.js'

export interface SilenceExpireResult {
  silences: ExpireResult[]
}

export default class AlertsSilenceExpire extends BaseCommand<typeof AlertsSilenceExpire> {
  static summary = 'Expire silences now, so their alerts notify again'
  static description = `Each ID is looked up first: an unknown ID or a silence that has already expired is reported clearly and makes the command exit 2, after the other IDs have been expired.`
  static examples = [
    '<%= config.bin %> alerts silence expire 0c1f9d4e-6d2a-4b8e-9a0f-3c2b1a0d9e8f',
    {description: 'Expire every silence created by alice', command: '<%= config.bin %> alerts silence expire $(<%= config.bin %> alerts silence list --json | jq -r \'.silences[] | select(.createdBy == "alice") | .id\')'},
  ]
  static audited = true
  static strict = false
  static args = {
    id: Args.string({description: 'Silence ID(s), as shown by `cimops alerts silence list`.'}),
  }

  static flags = {...MUTATING_FLAGS}

  async run(): Promise<SilenceExpireResult> {
    const {argv} = await this.parse({flags: AlertsSilenceExpire.flags, baseFlags: BaseCommand.baseFlags, args: AlertsSilenceExpire.args, strict: false, enableJsonFlag: true})
    const ids = [...new Set((argv as string[]).map((id) => id.trim()).filter(Boolean))]
    if (ids.length === 0) throw new UsageError('no silence ID given', 'expected one or more IDs', {hint: 'list them with `cimops alerts silence list`'})
    const ctx = await this.context()
    const {alertmanagerFor} = await import('../../../lib/alerts/clients.js')
    const {expireSilences, expireFailure} = await import('../../../lib/alerts/silences.js')
    const alertmanager = await alertmanagerFor(ctx)
    const results = await expireSilences(alertmanager, ids)
    for (const result of results) if (result.outcome === 'expired') this.print(`Expired silence ${result.id}${result.note ? ` (${result.note})` : ''}.`)
    const failure = expireFailure(results, alertmanager.baseUrl)
    if (failure) throw failure
    return {silences: results}
  }
}

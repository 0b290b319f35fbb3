import {Args} from '@oclif/core'

import type {BackupSetSummary} from '../../lib/backup/list.js'
import {BaseCommand} from '../../lib/core/base-command.js'

export default class BackupList extends BaseCommand<typeof BackupList> {
  static summary = 'List backup sets: time, age, streams, size, mode, complete or not'
  static description = `Reads each set's manifest.json (no checksums: use \`cimops backup verify\` for that). Sets still being written or left by an interrupted backup (<set>.partial) show as INCOMPLETE: never restore from them.
ROOT defaults to $CIMOPS_DATA_DIR/backups; it may also be a single set.`
  static examples = ['<%= config.bin %> backup list', '<%= config.bin %> backup list /backups/cim', '<%= config.bin %> backup list --json | jq -r \'.sets[] | select(.complete) | .path\' | head -1']
  static args = {root: Args.string({description: 'directory holding backup sets [default: $CIMOPS_DATA_DIR/backups]'})}

  async run(): Promise<{root: string; sets: BackupSetSummary[]}> {
    const {listBackups} = await import('../../lib/backup/list.js')
    const {defaultBackupRoot} = await import('../../lib/backup/options.js')
    const {resolve} = await import('node:path')
    const root = resolve(this.args.root ?? defaultBackupRoot())
    const sets = await listBackups(root)
    const {renderSets} = await import('../../lib/backup/render.js')
    if (!this.jsonEnabled()) this.print(renderSets(sets, root, this.style, this.width))
    return {root, sets}
  }
}

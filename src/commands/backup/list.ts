import {Args} from '@oclif/core'

import type {BackupSetSummary} from '../../lib/backup/list.js'
import {BaseCommand} from '../../lib/core/base-command.js'

export default class BackupList extends BaseCommand<typeof BackupList> {
  static summary = 'List backup sets: time, age, streams, size, mode, verified, unverified, corrupt or incomplete'
  static description = `Cheap checks only: each set's manifest.json (its own checksum included), and every file present, of its recorded size and inside the set. The sha256 of every file is \`cimops backup verify\`'s job: a set shows as verified only while the last verify that found it intact still describes it (nothing in it changed since), else unverified. Damaged sets show as CORRUPT, sets still being written or left by an interrupted backup (<set>.partial) as INCOMPLETE: never restore from either.
ROOT defaults to $CIMOPS_DATA_DIR/backups; it may also be a single set.`
  static examples = ['<%= config.bin %> backup list', '<%= config.bin %> backup list /backups/cim', '<%= config.bin %> backup list --json | jq -r \'.sets[] | select(.status == "verified") | .path\' | head -1']
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

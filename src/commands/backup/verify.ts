import {Args, Flags} from '@oclif/core'

import type {VerifyResult} from '../../lib/backup/verify.js'
import {BaseCommand} from '../../lib/core/base-command.js'
import {DataError} from '../../lib/core/errors.js'

export default class BackupVerify extends BaseCommand<typeof BackupVerify> {
  static summary = 'Check a backup set: structure and checksums; --deep restores it into a throwaway nats-server'
  static description = `Checks that the set is complete (manifest.json, no .partial), that the manifest matches its own checksum, that every file lies inside the set (no link elsewhere) and has the size and sha256 the manifest records, that every archive decompresses completely (S2 frame checksums) into a whole tar or V2 archive, ending with its end marker, and that backup.json names its stream; for logical sets it also re-counts and re-digests the messages and checks each file's end line. A set of an older cimops (no manifest checksum, no end lines) is checked as far as it can be, with a warning saying what was not. An intact set is recorded as verified for \`cimops backup list\`.
--deep then restores every stream into an ephemeral nats-server (started and stopped by this command) and compares the restored streams with the manifest.
Exit 0 when intact, 65 when anything is missing, corrupt or different.`
  static examples = ['<%= config.bin %> backup verify 20261122T030000Z', '<%= config.bin %> backup verify /backups/cim/20261122T030000Z --deep']
  static args = {set: Args.string({description: 'backup set directory, or a set name under $CIMOPS_DATA_DIR/backups', required: true})}
  static flags = {
    deep: Flags.boolean({summary: 'Also restore into an ephemeral nats-server and compare with the manifest.'}),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.'}),
  }

  async run(): Promise<VerifyResult> {
    const {loadSet} = await import('../../lib/backup/integrity.js')
    const {defaultBackupRoot, stderrProgress} = await import('../../lib/backup/options.js')
    const {verifySet} = await import('../../lib/backup/verify.js')
    const set = await loadSet(this.args.set, defaultBackupRoot())
    const progress = stderrProgress({json: this.jsonEnabled(), quiet: this.flags.quiet})
    let result: VerifyResult
    try {
      result = await verifySet({
        set,
        deep: this.flags.deep,
        // Only --deep talks to a server (its own); a plain verify needs no context at all.
        timeoutMs: this.flags.deep ? (await this.context()).timeoutMs : 5000,
        signal: this.signal,
        onProgress: progress.update,
        log: (line) => {
          progress.done()
          if (!this.flags.quiet) this.note(this.style.dim(line))
        },
      })
    } finally {
      progress.done()
    }
    const {renderVerify} = await import('../../lib/backup/render.js')
    if (!this.jsonEnabled()) this.print(renderVerify(result, this.style, this.width))
    if (!result.ok) {
      const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more)` : ''
      throw new DataError(`backup set ${set.dir} is corrupt`, `${result.problems[0] ?? 'a check failed'}${more}`, {hint: 'do not restore from it; use another set from `cimops backup list`'})
    }
    return result
  }
}

import {Args, Flags} from '@oclif/core'

import type {RestoreResult} from '../lib/backup/restore.js'
import {BaseCommand, MUTATING_FLAGS} from '../lib/core/base-command.js'
import {OperationError} from '../lib/core/errors.js'

export default class Restore extends BaseCommand<typeof Restore> {
  static audited = true
  static summary = 'Restore streams from a backup set, then prove the result matches the backup'
  static description = `Checks every file of the set (size, sha256, structure; every archive decompressed to its end) before contacting any server: a corrupt or incomplete set is refused with exit 65.
Before deleting anything it also refuses (exit 64) what the server would reject only later: a V2 archive (nats-server 2.15+) for an older server, subjects owned by another stream.
A stream that exists is never replaced unless --force is given, which asks first (or needs --yes without a terminal) and deletes it; a failure after that says so, with where the backup is.
Snapshot sets restore natscli-compatible archives (one 64 KiB chunk in flight, as natscli does); they keep their stream names: the server checks the name inside the archive. Logical sets republish the messages in order (new sequence numbers and times) and can be restored under another name with --as; the stream is marked "cimops: restore in progress" (its description) until it matches the manifest, and running the same restore again after an interruption resumes it.
Afterwards the restored stream is compared with the manifest — messages, first and last sequence, consumers, replicas (waiting for every peer to be current), and for logical sets the content digest — and any difference fails the command (exit 2).`
  static examples = [
    {description: 'See what would happen', command: '<%= config.bin %> restore 20261122T030000Z --dry-run'},
    {description: 'Restore the event stream into a 3-node cluster', command: '<%= config.bin %> restore /backups/cim/20261122T030000Z --stream EVENTS --replicas 3'},
    {description: 'Replace an existing stream (asks first)', command: '<%= config.bin %> restore 20261122T030000Z --stream EVENTS --force'},
    {description: 'A logical copy next to the original, in another account or server', command: '<%= config.bin %> restore 20261122T040000Z --stream EVENTS --as EVENTS_20261122 --context staging'},
  ]
  static args = {set: Args.string({description: 'backup set directory, or a set name under $CIMOPS_DATA_DIR/backups', required: true})}
  static flags = {
    ...MUTATING_FLAGS,
    stream: Flags.string({char: 's', multiple: true, summary: 'Restore only this stream of the set (repeatable) [default: all].'}),
    as: Flags.string({summary: 'Restore the stream under this name (logical sets only; one stream).'}),
    replicas: Flags.integer({summary: 'Replicas of the restored streams (num_replicas) [default: as backed up].', min: 1, max: 5}),
    force: Flags.boolean({summary: 'Replace streams that exist, an unfinished logical restore too (deletes them first; asks, or needs --yes).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask before deleting streams (with --force).'}),
    'dry-run': Flags.boolean({summary: 'Check the set and print the plan; change nothing.'}),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.'}),
  }

  /** The set's streams once it is read, and those this run restored: where its audit event may go. */
  private setStreams: string[] = []
  private restored: string[] = []

  /**
   * A restore never creates the ops log, and never writes into a stream of its set that it has not restored:
   * the next restore of that stream would fail because it exists, or overwrite the event. The event waits in the spool then.
   */
  protected auditOptions() {
    return {createOpsLog: false, avoidStreams: this.setStreams.filter((name) => !this.restored.includes(name))}
  }

  async run(): Promise<RestoreResult> {
    const {loadSet} = await import('../lib/backup/integrity.js')
    const {defaultBackupRoot, stderrProgress} = await import('../lib/backup/options.js')
    const {restoreSet} = await import('../lib/backup/restore.js')
    const {confirm} = await import('../lib/core/confirm.js')
    // An incomplete set is refused before anything else; the service checks every file before it connects.
    const set = await loadSet(this.args.set, defaultBackupRoot())
    for (const warning of set.warnings ?? []) this.note(`warning: ${warning}`)
    this.setStreams = set.manifest.streams.map((s) => s.name)
    const progress = stderrProgress({json: this.jsonEnabled(), quiet: this.flags.quiet})
    let result: RestoreResult
    try {
      const ctx = await this.context()
      result = await restoreSet({
        set,
        streams: this.flags.stream ?? [],
        as: this.flags.as,
        replicas: this.flags.replicas,
        force: this.flags.force,
        dryRun: this.flags['dry-run'],
        nats: await this.nats(),
        timeoutMs: ctx.timeoutMs,
        signal: this.signal,
        onProgress: progress.update,
        confirm: (question) => {
          progress.done()
          return confirm(question, {yes: this.flags.yes})
        },
      })
    } finally {
      progress.done()
    }
    // A dry run restored nothing: its audit event must not land in a stream of the set (one may be half-restored).
    this.restored = result.dryRun ? [] : result.streams.filter((s) => s.ok).map((s) => s.target)
    const {renderRestore, renderRestorePlan} = await import('../lib/backup/render.js')
    if (!this.jsonEnabled()) this.print(result.dryRun ? renderRestorePlan(result, this.style, this.width) : renderRestore(result, this.style, this.width))
    if (!result.ok && !result.dryRun) {
      const bad = result.streams.flatMap((s) => s.checks.filter((c) => !c.ok).map((c) => `${s.target} ${c.name}: ${c.actual}, the backup has ${c.expected}`))
      throw new OperationError('the restored streams differ from the backup', bad.join('; '), {hint: 'do not trust this restore; check the set with `cimops backup verify --deep` and the target server'})
    }
    return result
  }
}

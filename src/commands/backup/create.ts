import {Flags} from '@oclif/core'

import type {BackupResult} from '../../lib/backup/create.js'
import {BaseCommand} from '../../lib/core/base-command.js'

export default class BackupCreate extends BaseCommand<typeof BackupCreate> {
  static summary = 'Back up JetStream streams (snapshot or logical) to a backup set directory'
  static description = `Snapshot mode (the default) uses the JetStream snapshot API and writes natscli's layout per stream — <set>/<stream>/backup.json and <set>/<stream>/stream.tar.s2 (stream.arc.s2 when nats-server 2.15+ writes its backup V2 format), the server's bytes untouched — so \`nats stream restore\` reads cimops backups and cimops reads natscli's. --logical writes the messages instead (<stream>/messages.jsonl.gz: subject, headers, data, sequence, time): portable across server versions, the only way for memory streams, and restorable under another name.
Every set gets manifest.json (cimops and server versions, time, per stream the sha256 and size of each file, message count, first/last sequence and time, consumers). The set is written to <dir>.partial and renamed only once complete and checksummed, so an interrupted backup never looks complete. A --dir whose .partial set another live backup is writing is refused (exit 64); one left by a dead backup is replaced.
Without --dir the set goes to $CIMOPS_DATA_DIR/backups/<UTC time>. Without --stream or --all, the context's events stream (EVENTS) is backed up.`
  static examples = [
    {description: 'The event stream, snapshot mode', command: '<%= config.bin %> backup create --stream EVENTS'},
    {description: 'Everything: streams, KV buckets (KV_*) and object stores (OBJ_*)', command: '<%= config.bin %> backup create --all --dir /backups/cim/$(date -u +%Y%m%dT%H%M%SZ)'},
    {description: 'A memory stream, or a copy to restore under another name', command: '<%= config.bin %> backup create --logical --stream CACHE'},
  ]
  static flags = {
    stream: Flags.string({char: 's', multiple: true, summary: 'Stream to back up (repeatable).', exclusive: ['all']}),
    all: Flags.boolean({summary: 'Every stream of the account, KV buckets and object stores included.'}),
    dir: Flags.string({char: 'd', summary: 'The set directory to create [default: $CIMOPS_DATA_DIR/backups/<UTC time>].'}),
    logical: Flags.boolean({summary: 'Write the messages (JSON lines, gzip) instead of server snapshots.'}),
    consumers: Flags.boolean({allowNo: true, default: true, summary: 'Include durable file-backed consumers (snapshot mode).'}),
    check: Flags.boolean({default: false, summary: 'Have the server verify every message checksum before the snapshot.'}),
    'chunk-size': Flags.string({summary: 'Snapshot chunk size the server sends [default: 128KiB].'}),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.'}),
  }

  async run(): Promise<BackupResult> {
    const ctx = await this.context()
    const {createBackup, nextSetDir} = await import('../../lib/backup/create.js')
    const {defaultBackupRoot, parseSize, stderrProgress} = await import('../../lib/backup/options.js')
    const chunkSize = this.flags['chunk-size'] === undefined ? undefined : parseSize(this.flags['chunk-size'], '--chunk-size', {min: 1024, max: 1024 * 1024})
    const dir = this.flags.dir ?? (await nextSetDir(defaultBackupRoot()))
    const progress = stderrProgress({json: this.jsonEnabled(), quiet: this.flags.quiet})
    try {
      const result = await createBackup({
        nats: await this.nats(),
        timeoutMs: ctx.timeoutMs,
        streams: this.flags.stream ?? (this.flags.all ? [] : [ctx.streams.events]),
        all: this.flags.all,
        dir,
        mode: this.flags.logical ? 'logical' : 'snapshot',
        consumers: this.flags.consumers,
        check: this.flags.check,
        chunkSize,
        cimopsVersion: this.config.version,
        signal: this.signal,
        onProgress: progress.update,
        log: (line) => {
          progress.done()
          if (!this.flags.quiet) this.note(this.style.dim(line))
        },
      })
      progress.done()
      const {renderBackup} = await import('../../lib/backup/render.js')
      if (!this.jsonEnabled()) this.print(renderBackup(result, this.style, this.width))
      return result
    } finally {
      progress.done()
    }
  }
}

import {Flags} from '@oclif/core'

import type {DrillResult} from '../lib/backup/drill.js'
import {BaseCommand, MUTATING_FLAGS} from '../lib/core/base-command.js'
import {ExitCode} from '../lib/core/errors.js'

export default class Drill extends BaseCommand<typeof Drill> {
  static audited = true
  static summary = 'DR drill: back up, restore into an isolated target, compare, report RTO and RPO'
  static description = `Runs the whole disaster-recovery path against the real source and proves the result:
1. backs up the streams (snapshot mode, or --logical), timed;
2. restores them into an isolated target — by default an ephemeral nats-server this command starts and stops (also on failure and Ctrl-C; it dies with the command even under kill -9), or the servers of --target-context, where the streams must not exist yet — timed: that is the RTO you would get;
3. compares source and restored copy message by message: message count, sequence range, per-subject counts, and a content digest (sha256 over subject and data of every message in order);
4. reports PASS or FAIL with backup time, restore time (RTO) and RPO (the age of the newest message the backup holds, when it completed).
Exit 0 when every check passes, 2 when any fails. --format md gives a report to paste into the drill log; --format json (or --json) the typed result.
Without --stream or --all, the context's events stream (EVENTS) is drilled. The backup set is removed afterwards unless --dir keeps it.`
  static examples = [
    {description: 'The monthly drill of the event stream, as a Markdown report', command: '<%= config.bin %> drill --format md > drill-$(date -u +%Y%m).md'},
    {description: 'Every stream, KV bucket and object store', command: '<%= config.bin %> drill --all'},
    {description: 'Restore into the staging cluster instead of a throwaway server', command: '<%= config.bin %> drill --stream EVENTS --target-context staging'},
  ]
  static flags = {
    ...MUTATING_FLAGS,
    stream: Flags.string({char: 's', multiple: true, summary: 'Stream to drill (repeatable).', exclusive: ['all']}),
    all: Flags.boolean({summary: 'Every stream of the account, KV buckets and object stores included.'}),
    logical: Flags.boolean({summary: 'Drill logical backups (needed for memory streams).'}),
    'target-context': Flags.string({summary: 'Restore into the NATS servers of this cimops context instead of an ephemeral nats-server.'}),
    replicas: Flags.integer({summary: 'Replicas of the restored streams [default: 1 on the ephemeral server, as backed up with --target-context].', min: 1, max: 5}),
    dir: Flags.string({char: 'd', summary: 'Keep the backup set in this directory (must not exist).'}),
    format: Flags.option({options: ['table', 'md', 'json'] as const, default: 'table', summary: 'Report format (json = --json).'})(),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.'}),
  }

  async run(): Promise<DrillResult> {
    const ctx = await this.context()
    const {runDrill} = await import('../lib/backup/drill.js')
    const {stderrProgress} = await import('../lib/backup/options.js')
    const json = this.jsonEnabled() || this.flags.format === 'json'
    let target
    if (this.flags['target-context']) {
      target = {context: this.flags['target-context'], nats: (await this.otherContext(this.flags['target-context'])).nats}
    }
    const progress = stderrProgress({json, quiet: this.flags.quiet})
    let result: DrillResult
    try {
      result = await runDrill({
        source: ctx.nats,
        nats: await this.nats(),
        timeoutMs: ctx.timeoutMs,
        streams: this.flags.stream ?? (this.flags.all ? [] : [ctx.streams.events]),
        all: this.flags.all,
        mode: this.flags.logical ? 'logical' : 'snapshot',
        target,
        replicas: this.flags.replicas,
        dir: this.flags.dir,
        cimopsVersion: this.config.version,
        signal: this.signal,
        onProgress: progress.update,
        log: (line) => {
          progress.done()
          if (!this.flags.quiet && !json) this.note(this.style.dim(line))
        },
      })
    } finally {
      progress.done()
    }
    // The drill's outcome belongs to the ops log (morning-check reads the last one); failing to
    // write it does not change the drill's verdict, so it is only reported.
    const {publishOpsEvent} = await import('../lib/audit/publish.js')
    await publishOpsEvent(ctx, await this.nats(), {subject: `cim.ops.drill.${result.id}.completed`, type: 'DrillCompleted', aggregateType: 'drill', aggregateId: result.id, data: result}).catch(
      (error: unknown) => process.stderr.write(`cimops: drill result not written to the ops log: ${error instanceof Error ? error.message : String(error)}\n`),
    )
    if (!this.jsonEnabled()) {
      const {renderDrill, renderDrillMarkdown} = await import('../lib/backup/render.js')
      const {redact} = await import('../lib/core/redact.js')
      if (this.flags.format === 'json') this.log(JSON.stringify(redact(result), null, 2))
      else this.print(this.flags.format === 'md' ? renderDrillMarkdown(result) : renderDrill(result, this.style, this.width))
    }
    process.exitCode = result.passed ? ExitCode.OK : ExitCode.FAILED
    return result
  }
}

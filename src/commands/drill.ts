import {Flags} from '@oclif/core'

import type {DrillResult} from '../lib/backup/drill.js'
import {BaseCommand, MUTATING_FLAGS} from '../lib/core/base-command.js'
import {ExitCode, UsageError} from '../lib/core/errors.js'
import type {FailoverDrillResult} from '../lib/dr/drill.js'

/** The backup drill's flags: meaningless for the failover drill. */
const BACKUP_DRILL_FLAGS = ['stream', 'all', 'logical', 'target-context', 'replicas', 'dir']
/** How long an interrupted failover drill may take to put the sandbox back before the command exits anyway. */
const FAILOVER_RESTORE_GRACE_MS = 180_000

export default class Drill extends BaseCommand<typeof Drill> {
  static audited = true
  static summary = 'DR drill: back up, restore into an isolated target, compare, report RTO and RPO'
  static description = `Runs the whole disaster-recovery path against the real source and proves the result:
1. backs up the streams (snapshot mode, or --logical), timed;
2. restores them into an isolated target — by default an ephemeral nats-server this command starts and stops (also on failure and Ctrl-C; it dies with the command even under kill -9), or the servers of --target-context, where the streams must not exist yet — timed: that is the RTO you would get;
3. compares source and restored copy message by message: message count, sequence range, per-subject counts, and a content digest (sha256 over subject and data of every message in order);
4. reports PASS or FAIL with backup time, restore time (RTO) and RPO (the age of the newest message the backup holds, when it completed).
Exit 0 when every check passes, 2 when any fails. --format md gives a report to paste into the drill log; --format json (or --json) the typed result.
Without --stream or --all, the context's events stream (EVENTS) is drilled. The backup set is removed afterwards unless --dir keeps it.
--failover drills the failover across sites instead (--context the primary, --dr-context the DR site [default: sandbox-dr with --context sandbox]): it publishes --markers marker events at the primary at --rate on a CIM subject its events stream captures, and times each until the DR copy (the stream there mirroring it) holds it: the RPO under load (max and p50). In the sandbox cimops started only (its own contexts, its recorded servers), it then kills the primary site's nats-servers by the pids the sandbox recorded, promotes the copy as \`dr promote\` does (in place on nats-server 2.12+, the safest path into a new stream before), checks that every event the copy acknowledged is there (a digest over the common range) and that the DR site takes CIM writes, and reports the RTO: from the kill to the first write the DR site acknowledged. The sandbox is put back afterwards, also on failure and Ctrl-C: the promoted stream deleted first, the servers restarted, the markers purged, the copy created again as a mirror. Anywhere else it never stops a server: it measures the lag only, says so, and leaves the markers in place (deletes are not mirrored).`
  static examples = [
    {description: 'The monthly drill of the event stream, as a Markdown report', command: '<%= config.bin %> drill --format md > drill-$(date -u +%Y%m).md'},
    {description: 'Every stream, KV bucket and object store', command: '<%= config.bin %> drill --all'},
    {description: 'Restore into the staging cluster instead of a throwaway server', command: '<%= config.bin %> drill --stream EVENTS --target-context staging'},
    {description: 'The failover drill in the two-site sandbox, as a Markdown report', command: '<%= config.bin %> drill --failover --context sandbox --dr-context sandbox-dr --format md'},
    {description: 'Replication lag of a real pair of sites under 50 markers/s (stops nothing)', command: '<%= config.bin %> drill --failover --context prod --dr-context prod-dr --rate 50/s'},
  ]
  static flags = {
    ...MUTATING_FLAGS,
    stream: Flags.string({char: 's', multiple: true, summary: 'Stream to drill (repeatable).', exclusive: ['all']}),
    all: Flags.boolean({summary: 'Every stream of the account, KV buckets and object stores included.'}),
    logical: Flags.boolean({summary: 'Drill logical backups (needed for memory streams).'}),
    'target-context': Flags.string({summary: 'Restore into the NATS servers of this cimops context instead of an ephemeral nats-server.'}),
    replicas: Flags.integer({summary: 'Replicas of the restored streams [default: 1 on the ephemeral server, as backed up with --target-context].', min: 1, max: 5}),
    dir: Flags.string({char: 'd', summary: 'Keep the backup set in this directory (must not exist).'}),
    failover: Flags.boolean({summary: 'Drill the failover across sites: RPO from markers, then (sandbox only) kill the primary, promote, RTO.', exclusive: BACKUP_DRILL_FLAGS}),
    'dr-context': Flags.string({summary: 'The DR site of --failover [default: sandbox-dr with --context sandbox].', dependsOn: ['failover']}),
    markers: Flags.integer({summary: 'Marker events --failover publishes [default: 200].', min: 1, max: 100_000, dependsOn: ['failover']}),
    rate: Flags.string({summary: 'Markers per second, N or N/s [default: 100/s].', dependsOn: ['failover']}),
    format: Flags.option({options: ['table', 'md', 'json'] as const, default: 'table', summary: 'Report format (json = --json).'})(),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.'}),
  }

  async run(): Promise<DrillResult | FailoverDrillResult> {
    if (this.flags.failover) return this.failover()
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
    await this.recordDrill(result.id, result)
    if (!this.jsonEnabled()) {
      const {renderDrill, renderDrillMarkdown} = await import('../lib/backup/render.js')
      const {redact} = await import('../lib/core/redact.js')
      if (this.flags.format === 'json') this.log(JSON.stringify(redact(result), null, 2))
      else this.print(this.flags.format === 'md' ? renderDrillMarkdown(result) : renderDrill(result, this.style, this.width))
    }
    process.exitCode = result.passed ? ExitCode.OK : ExitCode.FAILED
    return result
  }

  private async failover(): Promise<FailoverDrillResult> {
    const [{runFailoverDrill, DEFAULT_MARKERS, DEFAULT_RATE_PER_SECOND, parseRate}, {SANDBOX_CONTEXT, SANDBOX_DR_CONTEXT}, {defaultSandboxDir, readSandboxState}, {cimopsDataDir}] = await Promise.all([
      import('../lib/dr/drill.js'),
      import('../lib/sandbox/context.js'),
      import('../lib/sandbox/state.js'),
      import('../lib/core/paths.js'),
    ])
    const ratePerSecond = this.flags.rate === undefined ? DEFAULT_RATE_PER_SECOND : parseRate(this.flags.rate)
    const ctx = await this.context()
    const drName = this.flags['dr-context'] ?? (ctx.name === SANDBOX_CONTEXT ? SANDBOX_DR_CONTEXT : undefined)
    if (!drName) throw new UsageError('--failover needs the DR site', `context ${ctx.name ?? '(none)'} is not the sandbox's, whose DR site is known`, {hint: 'name it with --dr-context'})
    if (drName === ctx.name) throw new UsageError('--failover needs two sites', `--dr-context ${drName} is the primary's context too`)
    const dr = await this.otherContext(drName)
    const stateDir = defaultSandboxDir(cimopsDataDir())
    const json = this.jsonEnabled() || this.flags.format === 'json'
    // Ctrl-C must not cut the put-back of the sandbox short; a second Ctrl-C still leaves at once.
    this.interruptGraceMs = FAILOVER_RESTORE_GRACE_MS
    const result = await runFailoverDrill({
      primary: ctx,
      dr,
      markers: this.flags.markers ?? DEFAULT_MARKERS,
      ratePerSecond,
      sandbox: {stateDir, state: await readSandboxState(stateDir)},
      actor: this.flags.actor,
      signal: this.signal,
      log: (line) => {
        if (!this.flags.quiet && !json) this.note(this.style.dim(line))
      },
    })
    await this.recordDrill(result.id, result)
    if (!this.jsonEnabled()) {
      const {renderFailoverDrill, renderFailoverDrillMarkdown} = await import('../lib/dr/drill-render.js')
      const {redact} = await import('../lib/core/redact.js')
      if (this.flags.format === 'json') this.log(JSON.stringify(redact(result), null, 2))
      else this.print(this.flags.format === 'md' ? renderFailoverDrillMarkdown(result) : renderFailoverDrill(result, this.style))
    }
    process.exitCode = result.passed ? ExitCode.OK : ExitCode.FAILED
    return result
  }

  /**
   * The drill's outcome belongs to the ops log of the primary site (morning-check reads the last one); failing to
   * write it does not change the drill's verdict, so it is only reported.
   */
  private async recordDrill(id: string, result: DrillResult | FailoverDrillResult): Promise<void> {
    const [ctx, nats, {publishOpsEvent}] = await Promise.all([this.context(), this.nats(), import('../lib/audit/publish.js')])
    await publishOpsEvent(ctx, nats, {subject: `cim.ops.drill.${id}.completed`, type: 'DrillCompleted', aggregateType: 'drill', aggregateId: id, data: result}).catch(
      (error: unknown) => process.stderr.write(`cimops: drill result not written to the ops log: ${error instanceof Error ? error.message : String(error)}\n`),
    )
  }
}

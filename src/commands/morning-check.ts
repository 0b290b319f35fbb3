import {Flags} from '@oclif/core'

import {BaseCommand, FLEET_FLAGS} from '../lib/core/base-command.js'
import {formatDuration, parseDuration} from '../lib/core/duration.js'
import {UsageError} from '../lib/core/errors.js'
import {NAGIOS_CODE} from '../lib/core/check/status.js'
import type {MorningReport} from '../lib/morning/model.js'
import type {MorningFleetReport} from '../lib/fleet/morning.js'

export default class MorningCheck extends BaseCommand<typeof MorningCheck> {
  static isCheck = true
  static summary = 'The daily morning check: overnight alerts, event rates, consumer lag, GPUs, backups, drills and health in one report'
  static description = `The seed's five-minute morning routine in one command, every area read at once:
  alerts    firing now (Alertmanager, with their runbook) and those that fired and resolved in the window (Prometheus ALERTS);
  events    rates by domain now and over the window (the monitor's cim_events_total in Prometheus, else the event stream's subject counts and newest event per domain);
  consumers lag and backlog of each projection (as health-check measures them) and the backlog trend since the previous morning check;
  gpu       this host's GPUs and the fleet's nodes (KV cim_gpu_nodes / cim_gpu_health);
  backups   age of the newest complete backup set in --backups; drills: age of the last successful DR drill (cim.ops.drill.> in the ops log);
  health    the health-check verdict and score;
  domains   each domain's verdict as \`cimops domain health\` gives it (the seed's daily domain health check).
Then a short list of recommended actions, each with its runbook and the command to type.
Status: critical alerts firing, consumers past lag-crit or stalled, or the newest backup older than --backup-crit make it CRITICAL; warnings, a backup older than --backup-warn, no backup at all, or no successful drill within --drill-warn make it WARNING; an area that cannot be read is UNKNOWN.
Exit code = Nagios code of the verdict (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), in every format.
With a repeated --context or --all-contexts every site is checked at once, each under its own context's timeout: a fleet table (context, status, health score, what needs attention) first, each site's report under it with --verbose (--format md: every site's report); --json gives {status, contexts: [{context, status, score, ...the site's report}]}; the exit code is the worst site's.
The consumers' backlog is kept in $CIMOPS_DATA_DIR/morning-check/<context>.json for the next run's trend.`
  static examples = [
    '<%= config.bin %> morning-check',
    {description: 'The report for the team channel, from cron', command: '<%= config.bin %> morning-check --format md --out /var/lib/cimops/morning-$(date +%F).md'},
    {description: 'Since the end of the last shift, backups kept elsewhere', command: '<%= config.bin %> morning-check --since 16h --backups /backups/cim'},
    {description: 'Every site in one report', command: '<%= config.bin %> morning-check --all-contexts --verbose'},
    '<%= config.bin %> morning-check --json | jq \'.actions[] | .command\'',
  ]
  static flags = {
    ...FLEET_FLAGS,
    since: Flags.string({summary: 'How far back to look for alerts and events.', default: '12h'}),
    format: Flags.option({options: ['text', 'md', 'json'] as const, default: 'text', summary: 'Report format (json = --json).'})(),
    out: Flags.string({char: 'o', summary: 'Write the report to this file (atomically) instead of stdout; stdout gets the one-line verdict.'}),
    backups: Flags.string({summary: 'Directory of backup sets [default: $CIMOPS_DATA_DIR/backups, where `backup create` writes].'}),
    'backup-warn': Flags.string({summary: 'Newest backup older than this: WARNING.', default: '26h'}),
    'backup-crit': Flags.string({summary: 'Newest backup older than this: CRITICAL.', default: '3d'}),
    'drill-warn': Flags.string({summary: 'No successful DR drill for this long: WARNING.', default: '35d'}),
  }

  async run(): Promise<MorningReport | MorningFleetReport> {
    const sinceMs = parseDuration(this.flags.since, '--since')
    if (sinceMs < 60_000) throw new UsageError(`invalid --since "${this.flags.since}"`, 'the window must be at least 1m')
    const backupWarnMs = parseDuration(this.flags['backup-warn'], '--backup-warn')
    const backupCritMs = parseDuration(this.flags['backup-crit'], '--backup-crit')
    if (backupWarnMs > backupCritMs) throw new UsageError('inconsistent --backup-warn/--backup-crit', `warning ${formatDuration(backupWarnMs)} must be at most critical ${formatDuration(backupCritMs)}`)
    const drillWarnMs = parseDuration(this.flags['drill-warn'], '--drill-warn')
    if (this.flags.out) await (await import('../lib/core/atomic-write.js')).checkUserFile(this.flags.out, '--out')

    const sites = await this.fleetContexts()
    if (sites) {
      const [{runMorningFleet}, {snapshotFile}, {defaultBackupRoot}] = await Promise.all([
        import('../lib/fleet/morning.js'),
        import('../lib/morning/trend.js'),
        import('../lib/backup/options.js'),
      ])
      const fleet = await runMorningFleet(sites, {sinceMs, backupsDir: this.flags.backups ?? defaultBackupRoot(), backupWarnMs, backupCritMs, drillWarnMs, signal: this.signal, snapshotFile})
      process.exitCode = NAGIOS_CODE[fleet.status]
      await this.emitFleet(fleet)
      return fleet
    }

    const ctx = await this.context()
    const [{runMorningCheck}, {snapshotFile}, {defaultBackupRoot}] = await Promise.all([
      import('../lib/morning/service.js'),
      import('../lib/morning/trend.js'),
      import('../lib/backup/options.js'),
    ])
    const report = await runMorningCheck(ctx, {
      sinceMs,
      backupsDir: this.flags.backups ?? defaultBackupRoot(),
      backupWarnMs,
      backupCritMs,
      drillWarnMs,
      signal: this.signal,
      nats: await this.nats(),
      snapshotFile: snapshotFile(ctx.name),
    })
    process.exitCode = NAGIOS_CODE[report.status]

    const json = this.jsonEnabled() || this.flags.format === 'json'
    const {redact, redactString} = await import('../lib/core/redact.js')
    const text = async (): Promise<string> => {
      if (json) return `${JSON.stringify(redact(report), null, 2)}\n`
      const {renderMorningMarkdown, renderMorningText} = await import('../lib/morning/render.js')
      if (this.flags.format === 'md') return `${redactString(renderMorningMarkdown(report))}\n`
      const plain = this.flags.out ? (await import('../lib/core/output/style.js')).createStyle({noColor: true}) : this.style
      return `${redactString(renderMorningText(report, plain, this.flags.out ? undefined : this.width))}\n`
    }
    if (this.flags.out) {
      const {writeUserFile} = await import('../lib/core/atomic-write.js')
      await writeUserFile(this.flags.out, await text(), '--out', 0o644)
      const {headline} = await import('../lib/morning/render.js')
      this.print(`${this.style.status(report.status, report.status)} ${headline(report)} (report in ${this.flags.out})`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(await text())
    }
    return report
  }

  /** The fleet table, then each site's report with --verbose; with --format md every site's report. */
  private async emitFleet(fleet: MorningFleetReport): Promise<void> {
    const [{redact, redactString}, {renderFleetTable}, {renderMorningMarkdown, renderMorningText}] = await Promise.all([
      import('../lib/core/redact.js'),
      import('../lib/fleet/render.js'),
      import('../lib/morning/render.js'),
    ])
    const reports = fleet.contexts.filter((site): site is MorningFleetReport['contexts'][number] & MorningReport => site.health !== undefined)
    const style = this.flags.out ? (await import('../lib/core/output/style.js')).createStyle({noColor: true}) : this.style
    const width = this.flags.out ? undefined : this.width
    let text: string
    if (this.jsonEnabled() || this.flags.format === 'json') text = JSON.stringify(redact(fleet), null, 2)
    else if (this.flags.format === 'md') text = reports.map((report) => renderMorningMarkdown(report)).join('\n\n')
    else {
      const each = this.flags.verbose ? reports.map((report) => `${style.bold(`── ${report.context} ──`)}\n${renderMorningText(report, style, width)}`) : []
      text = [renderFleetTable(fleet, style, {width}), ...each].join('\n\n')
    }
    if (this.flags.out) {
      const {writeUserFile} = await import('../lib/core/atomic-write.js')
      await writeUserFile(this.flags.out, `${redactString(text)}\n`, '--out', 0o644)
      this.print(`${this.style.status(fleet.status, fleet.status)} ${fleet.summary} (report in ${this.flags.out})`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(`${redactString(text)}\n`)
    }
  }
}

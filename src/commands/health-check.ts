import {Flags} from '@oclif/core'

import {BaseCommand, FLEET_FLAGS} from '../lib/core/base-command.js'
import type {ResolvedContext, Thresholds} from '../lib/core/context-types.js'
import {withThresholdFlags} from '../lib/core/context.js'
import {MAX_TIMER_MS, parseDuration} from '../lib/core/duration.js'
import {UsageError} from '../lib/core/errors.js'
import {formatNagios, formatPrometheus} from '../lib/core/output/check-formats.js'
import {redact, redactString} from '../lib/core/redact.js'
import {HEALTH_COMPONENTS, selectComponents} from '../lib/health/components.js'
import {renderReport} from '../lib/health/render.js'
import {NAGIOS_CODE} from '../lib/core/check/status.js'
import type {HealthReport} from '../lib/health/service.js'
import type {HealthFleetReport} from '../lib/fleet/health.js'

type FleetRender = typeof import('../lib/fleet/render.js')

const THRESHOLDS = 'THRESHOLD'

export default class HealthCheck extends BaseCommand<typeof HealthCheck> {
  static isCheck = true
  static summary = 'Check NATS, JetStream, streams, consumers, Prometheus, Alertmanager, this host and its GPUs'
  static description = `Every check runs concurrently with its own timeout (--timeout, default 5s), so the command returns within that timeout plus a small margin whatever is down.
A component that cannot be reached is CRITICAL with its address and the error; a check that could not evaluate (e.g. permission denied) is UNKNOWN with the reason.
The overall status is the worst check; the health score (0-100) weighs event processing 40, messaging 30, memory 15, disk 15, monitoring 10, CPU 5 and GPU 5 (context key scoreWeights), and is 100 only when every check is OK.
A stream or consumer may carry its own thresholds in natscli's metadata keys (servers >= 2.10): io.nats.monitor.unprocessed-critical and last-delivery-critical on a consumer (its pending critical and stall time), lag-critical and seen-critical on a stream (its mirror and sources). They win over the context and defaults, a flag wins over them; the summary names the source of each threshold crossed and --json gives each threshold's value and source. An unreadable value is a WARNING naming the object, key and value.
With a repeated --context or --all-contexts every site is checked at once, each under its own context's timeout: a fleet table (context, status, score, worst finding) comes first, each site's report follows with --verbose; --json gives {status, contexts: [{context, status, score, checks}]}, --format nagios one line with a score per site, --format prometheus a context label. A site that cannot be reached is CRITICAL and delays no other.
Exit code is the Nagios code of the overall status (with several contexts, of the worst site) — 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN — also with --json, --format prometheus and --textfile.`
  static examples = [
    {description: 'The on-call view: worst first, one-line verdict', command: '<%= config.bin %> health-check'},
    {description: 'Only the JetStream side, with laxer lag thresholds', command: '<%= config.bin %> health-check --component consumers,streams --lag-warn 30s --lag-crit 2m'},
    {description: 'Only this host', command: '<%= config.bin %> health-check --component cpu --component memory,disk'},
    {description: 'For Nagios/Icinga', command: '<%= config.bin %> health-check --format nagios'},
    {description: 'For the node_exporter textfile collector (cron)', command: '<%= config.bin %> health-check --format prometheus --textfile /var/lib/node_exporter/textfile/cimops.prom'},
    {description: 'Every site at once', command: '<%= config.bin %> health-check --all-contexts'},
    {description: 'Live view, refreshed every 10 seconds', command: '<%= config.bin %> health-check --watch --interval 10s'},
    '<%= config.bin %> health-check --json | jq \'.checks[] | select(.status != "OK")\'',
  ]
  static flags = {
    ...FLEET_FLAGS,
    component: Flags.string({multiple: true, summary: `Run only these checks, repeated or comma-separated: ${HEALTH_COMPONENTS.join(', ')}.`}),
    format: Flags.option({options: ['table', 'nagios', 'prometheus'] as const, default: 'table', summary: 'Output format (--json for JSON).'})(),
    textfile: Flags.string({summary: 'Also write the Prometheus exposition atomically to this .prom file (node_exporter textfile collector).'}),
    watch: Flags.boolean({summary: 'Re-run every --interval and redraw until Ctrl-C.'}),
    interval: Flags.string({summary: 'Pause between runs with --watch.', default: '5s'}),
    'lag-warn': Flags.string({summary: 'Consumer lag warning [context, default 10s].', helpGroup: THRESHOLDS}),
    'lag-crit': Flags.string({summary: 'Consumer lag critical [context, default 60s].', helpGroup: THRESHOLDS}),
    'stall-after': Flags.string({summary: 'No delivery for this long while work is pending = stalled, CRITICAL [default 5m].', helpGroup: THRESHOLDS}),
    'mem-warn': Flags.string({summary: 'Memory used % warning [default 80].', helpGroup: THRESHOLDS}),
    'mem-crit': Flags.string({summary: 'Memory used % critical [default 90].', helpGroup: THRESHOLDS}),
    'disk-free-warn': Flags.string({summary: 'Disk free % warning [default 20].', helpGroup: THRESHOLDS}),
    'disk-free-crit': Flags.string({summary: 'Disk free % critical [default 10].', helpGroup: THRESHOLDS}),
    'js-warn': Flags.string({summary: 'JetStream storage/memory used % of account limit, warning [default 75].', helpGroup: THRESHOLDS}),
    'js-crit': Flags.string({summary: 'JetStream storage/memory used %, critical [default 90].', helpGroup: THRESHOLDS}),
    'load-warn': Flags.string({summary: 'Load average per core, warning [default 1.5].', helpGroup: THRESHOLDS}),
    'load-crit': Flags.string({summary: 'Load average per core, critical [default 3].', helpGroup: THRESHOLDS}),
    'rpo-warn': Flags.string({summary: 'Seconds a mirror or source may be behind its origin, warning (replication) [context, default 30s].', helpGroup: THRESHOLDS}),
    'rpo-crit': Flags.string({summary: 'Seconds behind its origin, critical (replication) [context, default 5m].', helpGroup: THRESHOLDS}),
    mount: Flags.string({multiple: true, summary: 'Mount point whose free space to check (repeatable) [context mounts, default /].', helpGroup: THRESHOLDS}),
  }

  private fleetRender?: FleetRender

  async run(): Promise<HealthReport | HealthFleetReport | undefined> {
    const components = selectComponents(this.flags.component ?? [])
    const sites = (await this.fleetContexts())?.map((site) => this.withOverrides(site))
    const ctx = sites ? undefined : this.withOverrides(await this.context())
    if (this.flags.textfile && !this.flags.textfile.endsWith('.prom')) {
      throw new UsageError(`invalid --textfile "${this.flags.textfile}"`, 'the textfile collector only reads files ending in .prom')
    }
    if (this.flags.textfile) await (await import('../lib/core/atomic-write.js')).checkUserFile(this.flags.textfile, '--textfile')
    const intervalMs = parseDuration(this.flags.interval, '--interval', {max: MAX_TIMER_MS})
    let check: () => Promise<HealthReport | HealthFleetReport>
    if (sites) {
      const {runHealthFleet} = await import('../lib/fleet/health.js')
      this.fleetRender = await import('../lib/fleet/render.js')
      check = () => runHealthFleet(sites, {components, signal: this.signal})
    } else {
      const {runHealthCheck} = await import('../lib/health/service.js')
      // --watch connects afresh for every report, so that a server that went away and came back is seen as it is now.
      const nats = this.flags.watch ? undefined : await this.nats()
      check = () => runHealthCheck(ctx!, {components, signal: this.signal, nats})
    }

    if (this.flags.watch) {
      // Live redraw on a terminal; otherwise one report after another (JSON lines with --json).
      const {watchLoop} = await import('../lib/ui/watch-loop.js')
      const json = this.jsonEnabled()
      const every = Math.round(intervalMs / 1000)
      await watchLoop(() => check(), {
        intervalMs,
        signal: this.signal,
        live: Boolean(process.stdout.isTTY) && !json,
      json,
        header: (report) => `cimops health-check — every ${every}s${report ? ` — ${new Date(report.checkedAt).toLocaleTimeString()}` : ''} — Ctrl-C to stop`,
        render: (report) => (json ? JSON.stringify(redact(report)) : this.renderText(report)),
        onResult: (report) => this.emit(report),
      })
      return undefined
    }
    const report = await check()
    await this.emit(report)
    return report
  }

  /** Writes the textfile, prints the chosen format, and sets the Nagios exit code. */
  private async emit(report: HealthReport | HealthFleetReport): Promise<void> {
    if (this.flags.textfile) {
      const {writeUserFile} = await import('../lib/core/atomic-write.js')
      await writeUserFile(this.flags.textfile, this.prometheus(report), '--textfile', 0o644)
    }
    if (!this.jsonEnabled() && !this.flags.watch) process.stdout.write(`${this.renderText(report)}\n`)
    process.exitCode = NAGIOS_CODE[report.status]
  }

  private renderText(report: HealthReport | HealthFleetReport): string {
    if (this.flags.format === 'prometheus') return redactString(this.prometheus(report)).trimEnd()
    if (!('contexts' in report)) {
      if (this.flags.format === 'nagios') return redactString(formatNagios(report))
      return redactString(renderReport(report, this.style, {verbose: this.flags.verbose, width: this.width}))
    }
    const {formatFleetNagios, renderFleetTable} = this.fleetRender!
    if (this.flags.format === 'nagios') return redactString(formatFleetNagios(report))
    const fleet = renderFleetTable(report, this.style, {width: this.width})
    if (!this.flags.verbose) return redactString(fleet)
    const each = report.contexts.map((site) => `${this.style.bold(`── ${site.context} ──`)}\n${renderReport(site, this.style, {verbose: true, width: this.width})}`)
    return redactString([fleet, ...each].join('\n\n'))
  }

  private prometheus(report: HealthReport | HealthFleetReport): string {
    return 'contexts' in report ? this.fleetRender!.formatFleetPrometheus(report) : formatPrometheus(report)
  }

  /** Thresholds and mounts given as flags win over the context's. */
  private withOverrides(ctx: ResolvedContext): ResolvedContext {
    const f = this.flags
    const seconds = (flag: string, value?: string) => (value === undefined ? undefined : parseDuration(value, `--${flag}`) / 1000)
    const percent = (flag: string, value?: string) => {
      if (value === undefined) return undefined
      const n = Number(value)
      if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`invalid --${flag} "${value}"`, 'expected a percentage between 0 and 100')
      return n
    }
    const positive = (flag: string, value?: string) => {
      if (value === undefined) return undefined
      const n = Number(value)
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`invalid --${flag} "${value}"`, 'expected a positive number')
      return n
    }
    const overrides: Partial<Thresholds> = {
      lagWarn: seconds('lag-warn', f['lag-warn']),
      lagCrit: seconds('lag-crit', f['lag-crit']),
      stallAfter: seconds('stall-after', f['stall-after']),
      memWarn: percent('mem-warn', f['mem-warn']),
      memCrit: percent('mem-crit', f['mem-crit']),
      diskFreeWarn: percent('disk-free-warn', f['disk-free-warn']),
      diskFreeCrit: percent('disk-free-crit', f['disk-free-crit']),
      jsWarn: percent('js-warn', f['js-warn']),
      jsCrit: percent('js-crit', f['js-crit']),
      loadWarn: positive('load-warn', f['load-warn']),
      loadCrit: positive('load-crit', f['load-crit']),
      rpoWarnSeconds: seconds('rpo-warn', f['rpo-warn']),
      rpoCritSeconds: seconds('rpo-crit', f['rpo-crit']),
    }
    return {...withThresholdFlags(ctx, overrides), mounts: f.mount ?? ctx.mounts}
  }
}

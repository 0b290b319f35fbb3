import {Args, Flags} from '@oclif/core'

import {BaseCommand, FLEET_FLAGS} from '../../lib/core/base-command.js'
import {NAGIOS_CODE} from '../../lib/core/check/status.js'
import {UsageError} from '../../lib/core/errors.js'
import {plural} from '../../lib/core/output/units.js'
import {formatMatcher, parseMatcherArgs} from '../../lib/alerts/matchers.js'
import {MATCHER_FLAGS, matcherMode} from '../../flags/matchers.js'
import type {AlertListResult, AlertView} from '../../lib/alerts/model.js'
import type {ListAlertsOptions} from '../../lib/alerts/list.js'
import type {AlertsFleetReport} from '../../lib/fleet/alerts.js'

export default class AlertsList extends BaseCommand<typeof AlertsList> {
  static summary = 'List current alerts from Alertmanager, most severe and oldest first'
  static description = `Matchers use Alertmanager's syntax and are ANDed: name=value, name!=value, name=~regex, name!~regex (regexes are fully anchored; quote values with spaces: summary="disk full"). A first argument without an operator means alertname=<it>. One argument may hold several, comma-separated: 'alertname=X,severity=warning'.
Matchers are read as Alertmanager 0.27+ reads them on every server version: quoted or UTF-8 label names ('"service.name"=checkout'), Go escapes in quoted values, a trailing comma. Input its two parsers read differently (foo=, foo=bar,) is read the classic way with a warning on stderr, as Alertmanager's default fallback mode does; --strict-matchers refuses it.
Like amtool (and unlike the API's default), only active alerts are shown: add --silenced and/or --inhibited to include suppressed ones, or --all for everything Alertmanager has.
Sorted by severity (critical, warning, info, then any other), then oldest first. The runbook is the runbook_url annotation, else a runbook in runbooks/ whose front matter lists the alert (alerts: [Name]).
STATE says what holds a suppressed alert back: the silences (IDs), the inhibiting alerts, and on Alertmanager 0.28+ the time intervals muting it (a muted alert is still active: it fires, its notifications wait for the interval to end).
With a repeated --context or --all-contexts every site's Alertmanager is read at once: a fleet table (context, status from its most severe active alert, worst alert) comes first, then one table of the alerts with the contexts each fires in (the same labels in several Alertmanagers are one alert). A site that cannot be reached is CRITICAL and delays no other; the exit code is then the Nagios code of the worst site. --json gives {status, contexts: [{context, status, alerts}], alerts}.
--json gives the full alerts (labels, annotations, times, receivers, silencedBy/inhibitedBy/mutedBy; mutedBy is [] before Alertmanager 0.28) plus severity, state and runbook.`
  static examples = [
    {description: 'What is firing now', command: '<%= config.bin %> alerts list'},
    {description: 'One alert by name, plus its silenced instances', command: '<%= config.bin %> alerts list HighEventLag --silenced'},
    {description: 'Critical alerts of the graph and workflow domains, one table per domain', command: '<%= config.bin %> alerts list \'domain=~"graph|workflow"\' --severity critical --group-by domain'},
    {description: 'What fires at every site, each alert once with the sites it fires in', command: '<%= config.bin %> alerts list --all-contexts'},
    '<%= config.bin %> alerts list --all --json | jq \'.alerts[] | {alertname, state, startsAt}\'',
  ]
  static strict = false
  static args = {
    matcher: Args.string({description: 'Alertmanager matcher(s), ANDed, e.g. severity=critical \'instance=~"node-.*"\'; a bare first word is an alertname.'}),
  }
  static flags = {
    ...FLEET_FLAGS,
    ...MATCHER_FLAGS,
    silenced: Flags.boolean({summary: 'Also show silenced alerts.'}),
    inhibited: Flags.boolean({summary: 'Also show inhibited alerts.'}),
    all: Flags.boolean({summary: 'Show every alert: active, silenced, inhibited and unprocessed.', exclusive: ['silenced', 'inhibited']}),
    receiver: Flags.string({summary: 'Only alerts routed to receivers matching this regex (anchored).'}),
    severity: Flags.string({summary: 'Only this severity (repeatable), e.g. --severity critical --severity warning.', multiple: true, multipleNonGreedy: true}),
    'group-by': Flags.string({summary: 'One table per value of this label, e.g. domain or severity.'}),
  }

  async run(): Promise<AlertListResult | AlertsFleetReport> {
    const {argv} = await this.parse({flags: AlertsList.flags, baseFlags: BaseCommand.baseFlags, args: AlertsList.args, strict: false, enableJsonFlag: true})
    const {matchers, warnings} = parseMatcherArgs(argv as string[], matcherMode(this.flags))
    for (const warning of warnings) this.warning(warning)
    const options: ListAlertsOptions = {
      matchers,
      silenced: this.flags.silenced,
      inhibited: this.flags.inhibited,
      all: this.flags.all,
      receiver: this.flags.receiver,
      severities: this.flags.severity,
      groupBy: this.flags['group-by'],
    }
    const sites = await this.fleetContexts()
    if (sites) {
      if (options.groupBy) throw new UsageError('--group-by with several contexts', 'the fleet lists each alert once with the contexts it fires in; group one context at a time')
      const {listFleetAlerts} = await import('../../lib/fleet/alerts.js')
      const fleet = await listFleetAlerts(sites, options)
      await this.renderFleet(fleet, matchers.map(formatMatcher))
      process.exitCode = NAGIOS_CODE[fleet.status]
      return fleet
    }
    const ctx = await this.context()
    const {alertmanagerFor} = await import('../../lib/alerts/clients.js')
    const {listAlerts} = await import('../../lib/alerts/list.js')
    const result = await listAlerts(await alertmanagerFor(ctx), options)
    for (const warning of result.warnings) this.note(this.style.dim(`warning: ${warning}`))
    await this.render(result, matchers.map(formatMatcher))
    return result
  }

  /** The fleet table, then every site's alerts in one table, each alert once with the contexts it fires in. */
  private async renderFleet(fleet: AlertsFleetReport, filters: string[]): Promise<void> {
    const [{renderAlertTable}, {renderFleetTable}] = await Promise.all([import('../../lib/alerts/render.js'), import('../../lib/fleet/render.js')])
    for (const site of fleet.contexts) for (const warning of site.warnings) this.note(this.style.dim(`warning: ${site.context}: ${warning}`))
    this.print(renderFleetTable(fleet, this.style, {width: this.width}))
    const where = this.filterWords(filters)
    if (fleet.alerts.length === 0) {
      const answered = fleet.contexts.filter((site) => site.error === undefined).length
      if (answered === 0) {
        this.print('\nNo Alertmanager answered.')
        return
      }
      const sites = answered === fleet.contexts.length ? 'any site' : `the ${plural(answered, 'site')} that answered`
      this.print(`\nNo ${this.whatWord()} at ${sites}${where.length > 0 ? ` matching ${where.join(' ')}` : ''}.`)
      return
    }
    this.print(`\n${renderAlertTable(fleet.alerts, {style: this.style, width: this.width, now: Date.now(), contextsOf: (alert) => (alert as (typeof fleet.alerts)[number]).contexts})}`)
    this.print(this.style.dim(`\n${summarize(fleet.alerts)}${where.length > 0 ? ` matching ${where.join(' ')}` : ''}`))
  }

  private whatWord(): string {
    return this.flags.all ? 'alerts' : ['active', this.flags.silenced ? 'silenced' : '', this.flags.inhibited ? 'inhibited' : ''].filter(Boolean).join(', ') + ' alerts'
  }

  private filterWords(filters: string[]): string[] {
    return [...filters, ...(this.flags.severity ?? []).map((s) => `severity=${s}`), ...(this.flags.receiver ? [`receiver=~${this.flags.receiver}`] : [])]
  }

  private async render(result: AlertListResult, filters: string[]): Promise<void> {
    const {renderAlertTable} = await import('../../lib/alerts/render.js')
    const what = this.whatWord()
    const where = this.filterWords(filters)
    if (result.alerts.length === 0) {
      const more = this.flags.all ? '' : ' (suppressed alerts are hidden: add --silenced, --inhibited or --all)'
      this.print(`No ${what}${where.length > 0 ? ` matching ${where.join(' ')}` : ''}${more}.`)
      for (const hint of result.hints) this.print(this.style.dim(`hint: ${hint}`))
      return
    }
    const now = Date.now()
    const table = (alerts: AlertView[], omitLabels: string[] = []) => renderAlertTable(alerts, {style: this.style, width: this.width, now, omitLabels})
    if (result.groupBy && result.groups) {
      const byFingerprint = new Map(result.alerts.map((alert) => [alert.fingerprint, alert]))
      const sections = result.groups.map((group) => {
        const header = `${result.groupBy}=${group.value ?? '(none)'} · ${plural(group.count, 'alert')}`
        return `${this.style.bold(header)}\n${table(
          group.fingerprints.map((fp) => byFingerprint.get(fp)!),
          [result.groupBy!],
        )}`
      })
      this.print(sections.join('\n\n'))
    } else {
      this.print(table(result.alerts))
    }
    this.print(this.style.dim(`\n${summarize(result.alerts)}${where.length > 0 ? ` matching ${where.join(' ')}` : ''}`))
  }
}

/** `5 alerts: 1 critical, 3 warning, 1 info` */
function summarize(alerts: AlertView[]): string {
  const counts = new Map<string, number>()
  for (const alert of alerts) counts.set(alert.severity ?? 'no severity', (counts.get(alert.severity ?? 'no severity') ?? 0) + 1)
  return `${plural(alerts.length, 'alert')}: ${[...counts.entries()].map(([severity, count]) => `${count} ${severity}`).join(', ')}`
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand, FLEET_FLAGS} from '../../lib/core/base-command.js'
import {NAGIOS_CODE} from '../../lib/core/check/status.js'
import {UsageError} from '../../lib/core/errors.js'
import {plural} from '../../lib/core/output/units.js'
import {formatMatcher, parseMatcherArgs} from '../../lib/alerts/matchers.js'
import {MATCHER_FLAGS, matcherMode} from '../../flags/matchers.js'
import type {AlertListResult} from '../../lib/alerts/model.js'
import type {ListAlertsOptions} from '../../lib/alerts/list.js'
import type {AlertsFleetReport} from '../../lib/fleet/alerts.js'

export default class AlertsList extends BaseCommand<typeof AlertsList> {
  static summary = 'List current alerts from Alertmanager, most severe and oldest first'
  static description = `Matchers use Alertmanager's syntax and are ANDed: name=value, name!=value, name=~regex, name!~regex (regexes are fully anchored; quote values with spaces: summary="disk full"). A first argument without an operator means alertname=<it>. One argument may hold several, comma-separated: 'alertname=X,severity=warning'.
Matchers are read as Alertmanager 0.27+ reads them on every server version: quoted or UTF-8 label names ('"service.name"=checkout'), Go escapes in quoted values, a trailing comma. Input its two parsers read differently (foo=, foo=bar,) is read the classic way with a warning on stderr, as Alertmanager's default fallback mode does; --strict-matchers refuses it.
Like amtool (and unlike the API's default), only active alerts are shown: add --silenced and/or --inhibited to include suppressed ones, or --all for everything Alertmanager has.
Sorted by severity (critical, warning, info, then any other), then oldest first. The runbook is the runbook_url annotation, else a runbook in runbooks/ whose front matter lists the alert (alerts: [Name]).
STATE says what holds a suppressed alert back: the silences (IDs), the inhibiting alerts, and on Alertmanager 0.28+ the time intervals muting it (a muted alert is still active: it fires, its notifications wait for the interval to end).
With a repeated --context or --all-contexts every site's Alertmanager is read at once: a fleet table (context, status from its most severe active alert, worst alert) comes first, then one table of the alerts with the contexts each fires in (the same labels in several Alertmanagers are one alert), and with --verbose each site's own table as on that context alone. A site that cannot be reached is CRITICAL and delays no other; the exit code is then the Nagios code of the worst site. --json gives {status, contexts: [{context, status, alerts}], alerts}.
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

  /**
   * The fleet table, then every site's alerts in one table, each alert once with the contexts it fires in; with
   * --verbose each site's own table after it.
   */
  private async renderFleet(fleet: AlertsFleetReport, filters: string[]): Promise<void> {
    const [{renderAlertList}, {renderFleetTable}, {renderAlertSites}] = await Promise.all([import('../../lib/alerts/render.js'), import('../../lib/fleet/render.js'), import('../../lib/fleet/render-alerts.js')])
    for (const site of fleet.contexts) for (const warning of site.warnings) this.note(this.style.dim(`warning: ${site.context}: ${warning}`))
    this.print(renderFleetTable(fleet, this.style, {width: this.width}))
    const matching = this.matchingWords(filters)
    const now = Date.now()
    const answered = fleet.contexts.filter((site) => site.error === undefined).length
    if (answered === 0) this.print('\nNo Alertmanager answered.')
    else if (fleet.alerts.length === 0) this.print(`\nNo ${this.whatWord()} at ${answered === fleet.contexts.length ? 'any site' : `the ${plural(answered, 'site')} that answered`}${matching}.`)
    else this.print(`\n${renderAlertList(fleet.alerts, {style: this.style, width: this.width, now, matching, contextsOf: (alert) => (alert as (typeof fleet.alerts)[number]).contexts})}`)
    if (this.flags.verbose) this.print(`\n${renderAlertSites(fleet.contexts, {style: this.style, width: this.width, now, matching, none: this.noAlerts(matching)})}`)
  }

  private whatWord(): string {
    return this.flags.all ? 'alerts' : ['active', this.flags.silenced ? 'silenced' : '', this.flags.inhibited ? 'inhibited' : ''].filter(Boolean).join(', ') + ' alerts'
  }

  /** ` matching severity=critical receiver=~ops`, or '' without filters. */
  private matchingWords(filters: string[]): string {
    const words = [...filters, ...(this.flags.severity ?? []).map((s) => `severity=${s}`), ...(this.flags.receiver ? [`receiver=~${this.flags.receiver}`] : [])]
    return words.length > 0 ? ` matching ${words.join(' ')}` : ''
  }

  /** What a site without alerts says. */
  private noAlerts(matching: string): string {
    return `No ${this.whatWord()}${matching}${this.flags.all ? '' : ' (suppressed alerts are hidden: add --silenced, --inhibited or --all)'}.`
  }

  private async render(result: AlertListResult, filters: string[]): Promise<void> {
    const {countAlerts, renderAlertList, renderAlertTable} = await import('../../lib/alerts/render.js')
    const matching = this.matchingWords(filters)
    if (result.alerts.length === 0) {
      this.print(this.noAlerts(matching))
      for (const hint of result.hints) this.print(this.style.dim(`hint: ${hint}`))
      return
    }
    const now = Date.now()
    if (!result.groupBy || !result.groups) {
      this.print(renderAlertList(result.alerts, {style: this.style, width: this.width, now, matching}))
      return
    }
    const byFingerprint = new Map(result.alerts.map((alert) => [alert.fingerprint, alert]))
    const sections = result.groups.map((group) => {
      const header = `${result.groupBy}=${group.value ?? '(none)'} · ${plural(group.count, 'alert')}`
      const alerts = group.fingerprints.map((fp) => byFingerprint.get(fp)!)
      return `${this.style.bold(header)}\n${renderAlertTable(alerts, {style: this.style, width: this.width, now, omitLabels: [result.groupBy!]})}`
    })
    this.print(sections.join('\n\n'))
    this.print(this.style.dim(`\n${countAlerts(result.alerts)}${matching}`))
  }
}

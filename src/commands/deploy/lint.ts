import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {ExitCode} from '../../lib/core/errors.js'
import type {DeployLintResult} from '../../lib/deploy/lint.js'

export default class DeployLint extends BaseCommand<typeof DeployLint> {
  static summary = "Check the monitoring assets: Prometheus config and rules, rule unit tests, Alertmanager routing, Grafana dashboards"
  static description = `Runs the servers' own checkers where they are installed, and cimops's checks of what they cannot see:
  promtool check config prometheus/prometheus.yml; promtool check rules and promtool test rules on prometheus/rules/ and prometheus/tests/; amtool check-config on alertmanager/*.yml;
  Grafana provisioning files (apiVersion, datasources, dashboard providers); dashboards in grafana/dashboards/*.json (valid JSON, unique uids and titles, panels with targets, datasource references, template variables);
  every dashboard query parsed by promtool (Grafana's $variables substituted), and every dashboard query and alert rule naming only metrics the CIM event monitor or a known exporter (node_exporter, prometheus-nats-exporter, DCGM) exports.
A tool that is not installed makes its checks "skipped", not failed (\`scripts/install-servers.sh\` installs promtool and amtool). Exit 0 when nothing failed, 65 when a check failed.`
  static examples = [
    {description: 'The assets shipped with cimops', command: '<%= config.bin %> deploy lint'},
    {description: 'Your own copy, in CI', command: '<%= config.bin %> deploy lint --dir ops/deploy'},
    {description: 'Only what failed', command: '<%= config.bin %> deploy lint --json | jq \'.checks[] | select(.status == "failed")\''},
  ]
  static flags = {
    dir: Flags.string({summary: 'Directory holding prometheus/, alertmanager/ and grafana/ [default: the deploy/ shipped with cimops].'}),
  }

  async run(): Promise<DeployLintResult> {
    const [{lintDeploy, packageDeployDir}, {resolve}] = await Promise.all([import('../../lib/deploy/lint.js'), import('node:path')])
    const dir = this.flags.dir === undefined ? packageDeployDir() : resolve(this.flags.dir)
    const result = await lintDeploy(dir, {signal: this.signal})
    const {renderDeployLint} = await import('../../lib/deploy/render.js')
    this.print(renderDeployLint(result, this.style, this.width))
    if (!result.ok) process.exitCode = ExitCode.DATA
    return result
  }
}

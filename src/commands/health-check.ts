import {Flags} from '@oclif/core'

import {BaseCommand} from '../lib/core/base-command.js'
import {UsageError} from '../lib/core/errors.js'
import {formatNagios, formatPrometheus} from '../lib/core/output/check-formats.js'
import {renderReport} from '../lib/health/render.js'
import {type CheckReport, NAGIOS_CODE} from '../lib/health/model.js'

export default class HealthCheck extends BaseCommand<typeof HealthCheck> {
  static isCheck = true
  static summary = 'Check NATS and report OK, WARNING, CRITICAL or UNKNOWN'
  static description = `Runs every check concurrently, each with its own timeout (--timeout, default 5s), so the command returns promptly whatever is down. A component that cannot be reached is CRITICAL with its address; a check that could not evaluate is UNKNOWN.
Exit code is the Nagios code of the overall status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN — also with --json and --format.`
  static examples = [
    '<%= config.bin %> health-check',
    '<%= config.bin %> health-check --format nagios',
    '<%= config.bin %> health-check --format prometheus --textfile /var/lib/node_exporter/textfile/cimops.prom',
    '<%= config.bin %> health-check --json | jq .status',
  ]
  static flags = {
    format: Flags.option({options: ['table', 'nagios', 'prometheus'] as const, default: 'table', summary: 'Output format (--json for JSON).'})(),
    textfile: Flags.string({summary: 'Also write the Prometheus exposition atomically to this file (node_exporter textfile collector).'}),
  }

  async run(): Promise<CheckReport> {
    const context = await this.context()
    const {runChecks} = await import('../lib/health/runner.js')
    const {natsCheck} = await import('../lib/health/checks/nats.js')
    const report = await runChecks([natsCheck], {ctx: context, signal: this.signal, now: () => new Date()}, context.timeoutMs)

    if (this.flags.textfile) {
      if (!this.flags.textfile.endsWith('.prom')) {
        throw new UsageError(`invalid --textfile "${this.flags.textfile}"`, 'the textfile collector only reads files ending in .prom')
      }
      const {writeFileAtomic} = await import('../lib/core/atomic-write.js')
      await writeFileAtomic(this.flags.textfile, formatPrometheus(report), 0o644)
    }
    if (!this.jsonEnabled()) {
      if (this.flags.format === 'nagios') this.print(formatNagios(report))
      else if (this.flags.format === 'prometheus') process.stdout.write(formatPrometheus(report))
      else this.print(renderReport(report, this.style, {verbose: this.flags.verbose, width: this.width}))
    }
    process.exitCode = NAGIOS_CODE[report.status]
    return report
  }
}

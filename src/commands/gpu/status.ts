import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {MAX_TIMER_MS, parseDuration} from '../../lib/core/duration.js'
import {UsageError} from '../../lib/core/errors.js'
import {formatNagios, formatPrometheus} from '../../lib/core/output/check-formats.js'
import {redact, redactString} from '../../lib/core/redact.js'
import type {GpuStatusReport} from '../../lib/gpu/model.js'
import {renderGpuStatus} from '../../lib/gpu/render.js'
import {NAGIOS_CODE, worstStatus} from '../../lib/core/check/status.js'

export default class GpuStatus extends BaseCommand<typeof GpuStatus> {
  static isCheck = true
  static summary = "This host's GPUs: readings, failures and a health verdict (Nagios exit code)"
  static description = `Reads nvidia-smi (the query CSV, plus -q -x for recovery action, reset status, retired pages, slowdown temperatures and processes) and the kernel log's NVIDIA Xid events (journalctl -k, else dmesg; --kernel-log or CIMOPS_KERNEL_LOG=FILE|none), or powermetrics on Apple Silicon.
Each GPU is OK, WARNING or CRITICAL with its reasons: uncorrectable ECC errors, pages pending retirement, row remapping pending or failed, a recovery action other than None, drain-worthy Xids, thermal slowdown or temperature near slowdown, HW slowdown / power brake, memory nearly full while allocation failures are reported; and the host is CRITICAL when it has fewer GPUs than expected. CRITICAL means drain the node.
Thresholds come from the context's gpu key (expectedGpus, tempWarn/tempCrit, tlimitWarn/tlimitCrit, slowdownMargin, memFullPercent, xidWindow, xid.{ignore,warn,drain}).
Exit code is the Nagios code of the verdict: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not look, or --publish failed).
--publish writes the verdict to the cim_gpu_health KV bucket under --node, so \`cimops gpu nodes\` and \`cimops emergency gpu-evacuate\` see it from anywhere.`
  static examples = [
    {description: 'The GPUs of this host', command: '<%= config.bin %> gpu status'},
    {description: 'With processes, retired pages and remapped rows', command: '<%= config.bin %> gpu status --verbose'},
    {description: 'From cron: share this node\'s GPU health with the fleet', command: '<%= config.bin %> gpu status --publish --format nagios'},
    {description: 'A simple node agent: publish every 30 seconds', command: '<%= config.bin %> gpu status --watch --interval 30s --publish'},
    {description: 'Expect 8 GPUs (also context key gpu.expectedGpus)', command: '<%= config.bin %> gpu status --expected-gpus 8'},
  ]
  static flags = {
    format: Flags.option({options: ['table', 'nagios', 'prometheus'] as const, default: 'table', summary: 'Output format (--json for JSON).'})(),
    publish: Flags.boolean({summary: 'Write the verdict to the cim_gpu_health KV bucket (key: --node).'}),
    node: Flags.string({summary: 'Node name for --publish [default: short host name].'}),
    'expected-gpus': Flags.integer({min: 0, summary: 'GPUs this host should have; fewer is CRITICAL [context gpu.expectedGpus].'}),
    'kernel-log': Flags.string({summary: 'Read Xid events from this file instead of journalctl/dmesg ("none" to skip).'}),
    'xid-window': Flags.string({summary: 'Only Xid events this recent count; 0 = this whole boot [context gpu.xidWindow, default 24h].'}),
    watch: Flags.boolean({summary: 'Re-run every --interval and redraw until Ctrl-C.'}),
    interval: Flags.string({summary: 'Pause between runs with --watch.', default: '10s'}),
  }

  async run(): Promise<GpuStatusReport | undefined> {
    const ctx = await this.context()
    const [{collectGpuStatus}, {resolveGpuThresholds}, {checkNodeName, defaultNodeName}] = await Promise.all([
      import('../../lib/gpu/collect.js'),
      import('../../lib/gpu/thresholds.js'),
      import('../../lib/gpu/node.js'),
    ])
    const f = this.flags
    const node = checkNodeName(f.node ?? defaultNodeName(), '--node')
    const xidWindow = f['xid-window'] === undefined ? undefined : parseDuration(f['xid-window'], '--xid-window') / 1000
    const thresholds = resolveGpuThresholds(ctx.gpu, {expectedGpus: f['expected-gpus'], xidWindow})
    const intervalMs = parseDuration(f.interval, '--interval', {max: MAX_TIMER_MS})
    if (f.watch && intervalMs <= 0) throw new UsageError(`invalid --interval "${f.interval}"`, 'must be greater than zero')
    const collect = async (): Promise<GpuStatusReport> => {
      const report = await collectGpuStatus({
        node,
        thresholds,
        timeoutMs: ctx.timeoutMs,
        signal: this.signal,
        kernelLogFile: f['kernel-log'],
        processes: f.verbose,
      })
      return f.publish ? this.publish(report) : report
    }

    if (f.watch) {
      const {watchLoop} = await import('../../lib/ui/watch-loop.js')
      const json = this.jsonEnabled()
      await watchLoop(() => collect(), {
        intervalMs,
        signal: this.signal,
        live: Boolean(process.stdout.isTTY) && !json,
      json,
        header: (report) => `cimops gpu status — ${node} — every ${f.interval}${report ? ` — ${new Date(report.checkedAt).toLocaleTimeString()}` : ''} — Ctrl-C to stop`,
        render: (report) => (json ? JSON.stringify(redact(report)) : this.renderText(report)),
        onResult: (report) => this.setExit(report),
      })
      return undefined
    }
    const report = await collect()
    if (!this.jsonEnabled()) process.stdout.write(`${this.renderText(report)}\n`)
    this.setExit(report)
    return report
  }

  /** Writes the verdict to cim_gpu_health; a failure is reported, not thrown, and makes the run UNKNOWN at least. */
  private async publish(report: GpuStatusReport): Promise<GpuStatusReport & {publishError?: string}> {
    const [{withFleet}, {publishHealth}] = await Promise.all([import('../../lib/gpu/fleet.js'), import('../../lib/gpu/nodes.js')])
    try {
      // --watch connects afresh for every publish, as health-check --watch does: a NATS outage costs a report, not the rest of the run.
      const connection = this.flags.watch ? {name: 'cimops-gpu-status'} : {nats: await this.nats()}
      const published = await withFleet(await this.context(), connection, (session) => publishHealth(session, report))
      return {...report, published}
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      process.stderr.write(`cimops: cannot publish the GPU health of ${report.node}: ${redactString(why)}\n`)
      return {...report, publishError: why}
    }
  }

  private setExit(report: GpuStatusReport & {publishError?: string}): void {
    process.exitCode = NAGIOS_CODE[report.publishError ? worstStatus([report.status, 'UNKNOWN']) : report.status]
  }

  private renderText(report: GpuStatusReport): string {
    if (this.flags.format === 'nagios') return redactString(formatNagios(report))
    if (this.flags.format === 'prometheus') return redactString(formatPrometheus(report)).trimEnd()
    return redactString(renderGpuStatus(report, {style: this.style, width: this.width, verbose: this.flags.verbose}))
  }
}

import {Flags} from '@oclif/core'

import {BaseCommand} from '../lib/core/base-command.js'
import {NAGIOS_CODE} from '../lib/core/check/status.js'
import {MAX_TIMER_MS, parseDuration} from '../lib/core/duration.js'
import {ExitCode, UsageError} from '../lib/core/errors.js'
import type {ProfileReport, ProfileSample, TargetSelector} from '../lib/profile/service.js'

/** Below this, reading /proc would be most of what the profile measures. */
const MIN_INTERVAL_MS = 100
const TARGET_FLAGS = ['pid', 'service', 'nats-client']
/** nats-server's usual `http: 8222`. */
const DEFAULT_NATS_MONITOR = 'http://127.0.0.1:8222'
/** Without a terminal, a progress line at most this often. */
const PROGRESS_LINE_EVERY_MS = 10_000

export default class ProfileService extends BaseCommand<typeof ProfileService> {
  static isCheck = true
  static summary = 'Profile a process for a while: memory, CPU and open files, and whether its memory grows or leaks'
  static description = `Samples a local process from /proc every --interval for --duration: resident memory (RSS), CPU (percent of one core, over each interval) and open file descriptors. Read-only; it needs nothing beyond reading /proc/<pid> of that process: as another user, the descriptors are not counted (a note says so), and where /proc refuses even the memory (hidepid) the result is UNKNOWN with the reason.
The process is --pid, or --service NAME: the main process of the systemd unit NAME when systemctl knows one running, else the one process whose name (comm, or the program of its command line) is NAME; several of that name are refused, listed, for you to pick one with --pid. Or --nats-client NAME: the process on this host holding the one open NATS connection of that client name, as the server's connz (at --nats-monitor, its HTTP monitoring endpoint) reports it; then each sample also holds the bytes the server has pending for that client, and a closed connection its reason (a slow consumer among them).
The verdict is on memory. STABLE: no lasting growth. GROWING: a least-squares line through the RSS rises with confidence >= 95% (Student's t on the slope), r² >= 0.5, and by at least 1% of the mean RSS (256 KiB at least) over the window; the growth per hour, r² and confidence are given. LEAKING: memory the process frees does not bring it back down: a leak survives a garbage collection, and while a heap cannot be read from outside without changing the process (an inspector), a collection shows as a drop of at least 1% from the peak before it. At least three such low points, each higher than the one before and the last above the first by the growth threshold, are a leak; its growth is the line through them. Growth without any drop stays GROWING. Fewer than 5 samples: UNKNOWN.
On a terminal each series is drawn as a sparkline. A process that exits and Ctrl-C end the profile early: the report covers the samples taken, marked PARTIAL with the reason (partial and reason in --json).
Exit code: 0 STABLE, 1 GROWING, 2 LEAKING, 3 UNKNOWN (also when it cannot read the process); 2 when there is no such process, 64 when --service names several; 130 after Ctrl-C, with the partial report.`
  static examples = [
    {description: 'Five minutes of a CIM service: its systemd unit, or the process of that name', command: '<%= config.bin %> profile-service --service cim-workflow --duration 300s'},
    {description: 'A process by PID, sampled every second for a minute', command: '<%= config.bin %> profile-service --pid 4242 --duration 1m --interval 1s'},
    {description: 'The process behind a NATS connection, with the bytes the server holds for it', command: '<%= config.bin %> profile-service --nats-client cim-projector --nats-monitor http://127.0.0.1:8222 --duration 5m'},
    {description: 'Every sample, for a script', command: '<%= config.bin %> profile-service --service cim-projector --duration 10m --json | jq \'{verdict, growth}\''},
  ]
  static flags = {
    pid: Flags.integer({min: 1, summary: 'The process to profile.', exactlyOne: TARGET_FLAGS}),
    service: Flags.string({summary: 'A systemd unit or a process name (comm or program) that names exactly one process.', exactlyOne: TARGET_FLAGS}),
    'nats-client': Flags.string({summary: 'The local process of the NATS connection of this client name (connz of --nats-monitor).', exactlyOne: TARGET_FLAGS}),
    // No oclif default: a default would count as given, and dependsOn refuse every run without --nats-client.
    'nats-monitor': Flags.string({summary: `The nats-server's HTTP monitoring endpoint, for --nats-client [default: ${DEFAULT_NATS_MONITOR}].`, dependsOn: ['nats-client']}),
    duration: Flags.string({summary: 'How long to profile.', default: '300s'}),
    interval: Flags.string({summary: 'Time between samples.', default: '5s'}),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.'}),
  }

  async run(): Promise<ProfileReport> {
    const f = this.flags
    const durationMs = parseDuration(f.duration, '--duration', {max: MAX_TIMER_MS})
    const intervalMs = parseDuration(f.interval, '--interval', {max: MAX_TIMER_MS})
    if (intervalMs < MIN_INTERVAL_MS) throw new UsageError(`invalid --interval "${f.interval}"`, `must be at least ${MIN_INTERVAL_MS}ms`)
    if (intervalMs > durationMs) throw new UsageError(`--interval ${f.interval} is longer than --duration ${f.duration}`, 'a profile needs several samples')
    const [service, render, {progressMode, startLiveView}] = await Promise.all([import('../lib/profile/service.js'), import('../lib/profile/render.js'), import('../lib/ui/live.js')])
    // The NATS monitor is called with the context's timeout (--timeout over it).
    const selector: TargetSelector =
      f.pid !== undefined
        ? {pid: f.pid}
        : f.service !== undefined
          ? {service: f.service}
          : {natsClient: f['nats-client']!, monitorUrl: f['nats-monitor'] ?? DEFAULT_NATS_MONITOR, timeoutMs: (await this.context()).timeoutMs}
    const monitorTimeoutMs = 'timeoutMs' in selector ? selector.timeoutMs : undefined
    const target = await service.findTarget(selector, this.signal)

    const mode = progressMode({quiet: f.quiet, json: this.jsonEnabled()})
    const header = `cimops profile-service — process ${target.pid} ${target.name} for ${f.duration} — Ctrl-C for a partial report`
    const live = mode === 'live' ? await startLiveView(header, {stream: process.stderr}) : undefined
    let lastLineAt = -Infinity
    const onSample = (sample: ProfileSample, all: readonly ProfileSample[]) => {
      if (live) {
        live.update(header, `${render.progressLine(sample, all)}\nRSS ${render.sparkline(all.map((s) => s.rssBytes), 60)}`)
      } else if (mode === 'lines' && Date.now() - lastLineAt >= PROGRESS_LINE_EVERY_MS) {
        lastLineAt = Date.now()
        process.stderr.write(`${render.progressLine(sample, all)}\n`)
      }
    }
    let report: ProfileReport
    try {
      report = await service.profileProcess(target, {durationMs, intervalMs, signal: this.signal, monitorTimeoutMs, onSample})
    } finally {
      live?.stop()
    }
    this.print(render.renderProfile(report, {style: this.style, width: this.width, chart: Boolean(process.stdout.isTTY)}))
    process.exitCode = this.signal.aborted ? ExitCode.INTERRUPTED : NAGIOS_CODE[report.status]
    return report
  }
}

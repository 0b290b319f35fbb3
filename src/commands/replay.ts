import {Flags} from '@oclif/core'

import {MSG_ID_HEADER} from '../lib/adapters/nats/headers.js'
import {BaseCommand, MUTATING_FLAGS} from '../lib/core/base-command.js'
import {UsageError} from '../lib/core/errors.js'
import type {PublishModeChoice, ReplayPlan, ReplayResult, ReplaySessions, ReplayState, ReplayTarget} from '../lib/replay/service.js'
import {eventSelectionFlags} from '../flags/streams.js'

const SELECT = 'SELECT'
const TARGET = 'TARGET'
const RUN = 'RUN'

export default class Replay extends BaseCommand<typeof Replay> {
  static summary = 'Replay stored events: republish a selection to a prefix or another stream, or export/import it as a file'
  static description = `Selects events of a stream (--stream, default the context's events stream EVENTS) by CIM shortcuts (--domain, --aggregate [--aggregate-type], --event-type, repeatable) or --subject filters (repeatable; several go to the server only on nats-server >= 2.10, else they are applied client-side), by time (--since/--until: a duration back from now or RFC 3339) and by sequence (--from-seq/--to-seq). The end is fixed when the replay starts (the stream's last sequence then): a replay never waits for new events.
Targets (one of): --to-prefix P republishes each event on P.<original subject> (a stream must capture P.>); --to-stream S [--create-target] into another stream, subjects mapped with --subject-map FROM=TO (leading tokens; needed when S would otherwise overlap the source); either at another site with --to-context C (the NATS servers of cimops context C, with its own timeout; a target at C that is the source stream itself, reached under another name, is refused like one at the source's site, and the subjects need no mapping when C is another JetStream); --to-file F.jsonl[.gz] exports one JSON line per event (seq, time, subject, headers, data), between a format line and an end line holding the count and digest. --from-file F reads such a file instead of a stream, after checking the whole of it (a file cut short or edited is refused, exit 65); with --to-context the file is the source and C the target's site.
Every republished event keeps its headers and gains Cim-Replay-Id, Cim-Replay-Source (<stream>:<seq>) and ${MSG_ID_HEADER} <replay id>:<seq> (its own id moves to Cim-Replay-Original-Msg-Id), so repeating or resuming a replay never duplicates within the target's duplicate window (24h for a target created here). Publishing keeps up to --max-in-flight acknowledgements outstanding, retries a late one with the same ${MSG_ID_HEADER} for up to 30s (a restarting server, a new stream leader), and reports success only once every event is acknowledged. --rate caps events per second for live targets.
--publish-mode: auto (the default) publishes in fast batches (ADR-50: one acknowledgement per flow window, gaps detected by the server, resent from the last confirmed event) when the target stream has allow_batched and the server has fast batch publishing (nats-server >= 2.14, API level 4), else pipelined; batch refuses to run without them (exit 64); async always pipelines. A target made by --create-target gets allow_batched where the server has fast batches; an existing one is never changed unless --allow-batched-target says so. The dry run and the result say which mode and why (publishMode in --json). In batch mode the server skips duplicates silently, so they are counted from how far the target's last sequence moved.
--dry-run counts the selection, shows the first and last event, the distribution by domain and event type and an estimated time, and changes nothing. It shows the selection whatever the target: a target the replay could not use (no stream captures the prefix, a missing stream) is a note (target.problem in --json) and the dry run exits 0; without a target it only looks at the selection. Ctrl-C stops cleanly (exit 130) and leaves a state file: --resume ID continues where the acknowledgements reached, at the contexts it started with (a different --context or --to-context is refused), with the original --rate and --max-in-flight unless given again.`
  static examples = [
    {description: 'What a domain-wide replay would do', command: '<%= config.bin %> replay --domain workflow --to-prefix rebuild --dry-run'},
    {description: "Rebuild a projection: one aggregate's history, republished under a prefix", command: '<%= config.bin %> replay --aggregate wf-0007 --to-prefix rebuild'},
    {description: 'Point-in-time recovery into a new stream', command: '<%= config.bin %> replay --until 2026-11-22T03:00:00Z --to-stream EVENTS_PITR --create-target --subject-map cim=pitr'},
    {description: 'Selective replay of two event types in the last hour', command: '<%= config.bin %> replay --domain graph --event-type NodeAdded --event-type EdgeAdded --since 1h --to-stream GRAPH_REBUILD --create-target --subject-map cim=rebuild'},
    {description: 'Migrate: the events of production into the staging site, an exact copy under the same subjects', command: '<%= config.bin %> replay --context prod --to-context staging --to-stream EVENTS --create-target'},
    {description: 'Export, then import elsewhere', command: '<%= config.bin %> replay --domain identity --to-file identity.jsonl.gz && <%= config.bin %> replay --from-file identity.jsonl.gz --to-stream IDENTITY_COPY --create-target --subject-map cim=copy'},
    {description: 'Continue after Ctrl-C', command: '<%= config.bin %> replay --resume rp-20261122T030000-3f9a'},
    {description: 'Fast batches into an existing target (nats-server >= 2.14), setting allow_batched on it', command: '<%= config.bin %> replay --to-stream EVENTS_COPY --subject-map cim=copy --publish-mode batch --allow-batched-target'},
  ]

  static audited = true

  static flags = {
    ...MUTATING_FLAGS,
    stream: Flags.string({summary: "Source stream [default: the context's events stream].", helpGroup: SELECT}),
    ...eventSelectionFlags('Subject filter (wildcards * and >); repeatable.'),
    'aggregate-type': Flags.string({summary: 'CIM aggregate type: events on cim.*.<type>.*.*.', helpGroup: SELECT}),
    'event-type': Flags.string({multiple: true, summary: 'CIM event type (last subject token); repeatable.', helpGroup: SELECT}),
    since: Flags.string({summary: 'Events stored at or after: a duration back from now (2h) or RFC 3339.', helpGroup: SELECT}),
    until: Flags.string({summary: 'Events stored before: a duration back from now or RFC 3339.', helpGroup: SELECT}),
    'from-seq': Flags.integer({min: 1, summary: 'First source sequence.', helpGroup: SELECT}),
    'to-seq': Flags.integer({min: 1, summary: 'Last source sequence (inclusive).', helpGroup: SELECT}),
    'from-file': Flags.string({summary: 'Read events from a replay file (.jsonl or .jsonl.gz) instead of a stream.', exclusive: ['stream'], helpGroup: SELECT}),
    'to-prefix': Flags.string({summary: 'Republish on <prefix>.<original subject>.', exclusive: ['to-stream', 'to-file'], helpGroup: TARGET}),
    'to-stream': Flags.string({summary: 'Republish into this stream.', exclusive: ['to-prefix', 'to-file'], helpGroup: TARGET}),
    'create-target': Flags.boolean({summary: 'Create the --to-stream target when missing (file storage, R1; allow_batched on nats-server >= 2.14).', dependsOn: ['to-stream'], helpGroup: TARGET}),
    'allow-batched-target': Flags.boolean({summary: 'Set allow_batched on an existing target stream that lacks it (nats-server >= 2.14), so that fast batches can be used.', helpGroup: TARGET}),
    'subject-map': Flags.string({multiple: true, summary: 'FROM=TO: replace leading subject tokens (e.g. cim=pitr); repeatable, first match wins.', helpGroup: TARGET}),
    'to-file': Flags.string({summary: 'Export to a JSON Lines file (gzip when it ends in .gz).', exclusive: ['to-prefix', 'to-stream'], helpGroup: TARGET}),
    'to-context': Flags.string({summary: 'Publish at the NATS servers of this cimops context (another site); with --to-stream or --to-prefix.', exclusive: ['to-file'], helpGroup: TARGET}),
    'dry-run': Flags.boolean({summary: 'Count and describe the selection; change nothing.', helpGroup: RUN}),
    resume: Flags.string({summary: 'Continue an interrupted replay by its id.', helpGroup: RUN}),
    'replay-id': Flags.string({summary: 'Id of this replay [default: rp-<time>-<random>]; the same id makes a repeat deduplicate.', exclusive: ['resume'], helpGroup: RUN}),
    // No oclif defaults: with --resume an absent flag keeps the setting of the original run.
    'max-in-flight': Flags.integer({min: 1, max: 10_000, summary: 'Publish acknowledgements outstanding at most [default: 1024; with --resume: as the original run].', helpGroup: RUN}),
    rate: Flags.string({summary: 'At most N events per second: N or N/s, 0 unlimited [default: 0; with --resume: as the original run].', helpGroup: RUN}),
    'publish-mode': Flags.string({
      options: ['auto', 'batch', 'async'],
      summary: 'auto: fast batches where the target allows them and the server has them, else pipelined; batch: fast batches or refuse; async: pipelined [default: auto; with --resume: as the original run].',
      helpGroup: RUN,
    }),
    quiet: Flags.boolean({char: 'q', summary: 'No progress on stderr.', helpGroup: RUN}),
  }

  async run(): Promise<ReplayResult> {
    const f = this.flags
    const ctx = await this.context()
    const [service, selection, {parseTimeFlag}] = await Promise.all([import('../lib/replay/service.js'), import('../lib/replay/selection.js'), import('../lib/core/time-flag.js')])

    let plan: ReplayPlan
    let resumeFrom: ReplayState | undefined
    if (f.resume) {
      const selecting = ['domain', 'aggregate', 'aggregate-type', 'event-type', 'subject', 'since', 'until', 'from-seq', 'to-seq', 'from-file', 'to-prefix', 'to-stream', 'to-file', 'subject-map', 'stream'] as const
      const given = selecting.filter((name) => f[name] !== undefined)
      if (given.length > 0) throw new UsageError(`--resume cannot be combined with --${given[0]}`, 'a resumed replay keeps the selection and target it started with')
      selection.checkReplayId(f.resume)
      resumeFrom = await service.loadReplayState(f.resume)
      checkResumeSites(resumeFrom, ctx.name, f['to-context'])
      if (resumeFrom.status === 'completed') this.note(`Replay ${f.resume} already completed; running it again only finds duplicates.`)
      const {status: _status, doneSeq: _doneSeq, updatedAt: _updatedAt, error: _error, ...saved} = resumeFrom
      plan = {
        ...saved,
        maxInFlight: f['max-in-flight'] ?? saved.maxInFlight,
        rate: f.rate === undefined ? saved.rate : parseRate(f.rate),
        publishMode: (f['publish-mode'] as PublishModeChoice | undefined) ?? saved.publishMode ?? 'auto',
        allowBatchedTarget: f['allow-batched-target'] || saved.allowBatchedTarget === true,
      }
    } else {
      plan = await this.newPlan(ctx, service, selection, parseTimeFlag)
    }

    const [{createReplayProgress}, {progressMode}] = await Promise.all([import('../lib/replay/progress.js'), import('../lib/ui/live.js')])
    const mode = f['dry-run'] ? 'quiet' : progressMode({quiet: f.quiet, json: this.jsonEnabled()})
    const progress = await createReplayProgress(mode, `cimops replay ${plan.replayId} — Ctrl-C stops cleanly; ${service.resumeHint(plan)}`)
    let result: ReplayResult
    try {
      result = await service.runReplay(
        await this.sessions(plan, ctx.name),
        plan,
        f['dry-run'] === true,
        {
          signal: this.signal,
          onProgress: mode === 'quiet' ? undefined : (p) => progress.update(p),
          progressEveryMs: mode === 'live' ? 200 : 2000,
          onWarning: (line) => this.note(`warning: ${line}`),
          onStart:
            mode === 'lines'
              ? (p) => process.stderr.write(`Replay ${p.replayId}${resumeFrom ? ` resumed after source sequence ${resumeFrom.doneSeq}` : ''}; if interrupted, ${service.resumeHint(p)}\n`)
              : undefined,
        },
        resumeFrom,
      )
    } finally {
      progress.stop()
    }
    await this.render(result)
    return result
  }

  private async newPlan(
    ctx: Awaited<ReturnType<BaseCommand<typeof Replay>['context']>>,
    service: typeof import('../lib/replay/service.js'),
    selection: typeof import('../lib/replay/selection.js'),
    parseTimeFlag: typeof import('../lib/core/time-flag.js').parseTimeFlag,
  ): Promise<ReplayPlan> {
    const f = this.flags
    const targets = [f['to-prefix'], f['to-stream'], f['to-file']].filter((t) => t !== undefined)
    if (targets.length > 1) throw new UsageError('several replay targets', 'give only one of --to-prefix, --to-stream or --to-file')
    if (targets.length === 0 && !f['dry-run']) throw new UsageError('no replay target', 'give one of --to-prefix, --to-stream or --to-file', {hint: 'add --dry-run to only look at the selection'})
    if (f['to-prefix'] !== undefined && (f['to-prefix'] === '' || f['to-prefix'].split('.').some((t) => t === '' || /[\s*>]/.test(t)))) {
      throw new UsageError(`invalid --to-prefix "${f['to-prefix']}"`, 'expected subject tokens without wildcards, e.g. rebuild')
    }
    if (f['from-file'] && f['to-file']) throw new UsageError('--from-file cannot be combined with --to-file', 'a file to a file is a copy')
    if ((f['publish-mode'] !== undefined || f['allow-batched-target']) && f['to-stream'] === undefined && f['to-prefix'] === undefined) {
      throw new UsageError(`--${f['publish-mode'] === undefined ? 'allow-batched-target' : 'publish-mode'} without a NATS target`, 'it is about publishing to --to-stream or --to-prefix')
    }
    if (f['to-context'] !== undefined && f['to-stream'] === undefined && f['to-prefix'] === undefined) {
      throw new UsageError('--to-context without a NATS target', 'it names the site --to-stream or --to-prefix publishes at', {hint: 'add --to-stream S or --to-prefix P'})
    }
    // Recorded in the plan, so that a resume publishes where the replay started (and the result names the site).
    const targetContext = f['to-context'] ?? ctx.name
    const filters = selection.replayFilters({domain: f.domain, aggregate: f.aggregate, aggregateType: f['aggregate-type'], eventTypes: f['event-type'], subjects: f.subject})
    const eventTypes = [...new Set(f['event-type'] ?? [])]
    const now = new Date()
    const since = f.since === undefined ? undefined : parseTimeFlag('--since', f.since, now)
    const until = f.until === undefined ? undefined : parseTimeFlag('--until', f.until, now)
    if (since && until && since >= until) throw new UsageError('empty time range', `--since ${since.toISOString()} is not before --until ${until.toISOString()}`)
    if (f['from-seq'] !== undefined && f['to-seq'] !== undefined && f['from-seq'] > f['to-seq']) throw new UsageError('empty sequence range', `--from-seq ${f['from-seq']} is after --to-seq ${f['to-seq']}`)
    const replayId = f['replay-id'] ?? selection.newReplayId(now)
    selection.checkReplayId(replayId)
    const target: ReplayTarget =
      f['to-prefix'] !== undefined
        ? {kind: 'prefix', prefix: f['to-prefix'], context: targetContext}
        : f['to-stream'] !== undefined
          ? {kind: 'stream', stream: f['to-stream'], createTarget: f['create-target'], context: targetContext}
          : f['to-file'] !== undefined
            ? {kind: 'file', path: f['to-file']}
            : {kind: 'none'}
    const base = {
      replayId,
      createdAt: now.toISOString(),
      filters,
      eventTypes,
      target,
      maps: (f['subject-map'] ?? []).map((m) => selection.parseSubjectMap(m)),
      maxInFlight: f['max-in-flight'] ?? service.DEFAULT_MAX_IN_FLIGHT,
      rate: f.rate === undefined ? 0 : parseRate(f.rate),
      publishMode: (f['publish-mode'] as PublishModeChoice | undefined) ?? 'auto',
      allowBatchedTarget: f['allow-batched-target'],
    }
    if (f['from-file']) {
      return {...base, source: {file: f['from-file']}, fromSeq: f['from-seq'] ?? 1, toSeq: f['to-seq'] ?? Number.MAX_SAFE_INTEGER, since: since?.toISOString(), until: until?.toISOString()}
    }
    const streamName = f.stream ?? ctx.streams.events
    const session = await (await this.natsSession()).jetstream()
    const stream = await service.findSourceStream(session, streamName)
    const range = await service.resolveRange(session, stream, {since, until, fromSeq: f['from-seq'], toSeq: f['to-seq']})
    return {...base, source: {stream: streamName, context: ctx.name}, ...range}
  }

  /** Reconnecting without limit: the replay's reader and publisher give up on their own. */
  private natsSession() {
    return this.nats({reconnect: 'forever'})
  }

  /** The source's session, and another for a target at another context than the source's. */
  private async sessions(plan: ReplayPlan, sourceContext: string | undefined): Promise<ReplaySessions> {
    const source = await this.natsSession()
    const context = 'context' in plan.target ? plan.target.context : undefined
    if (context === undefined || context === sourceContext) return {source}
    return {source, target: {context, session: await this.natsAt(await this.otherContext(context), {reconnect: 'forever'})}}
  }

  private async render(result: ReplayResult): Promise<void> {
    if (this.jsonEnabled()) return
    const [{formatBytes, formatSeconds, plural}, {renderCounts}, {estimatePhrase}] = await Promise.all([
      import('../lib/core/output/units.js'),
      import('../lib/replay/render.js'),
      import('../lib/replay/progress.js'),
    ])
    const {source, target} = result
    // Sites are named when the replay goes from one to another.
    const at = (context: string | undefined) => (context !== undefined && target.context !== source.context ? ` at ${context}` : '')
    const from = source.stream ? `${source.stream} sequences ${source.fromSeq}-${source.toSeq}${at(source.context)}` : source.file!
    const to =
      target.kind === 'none'
        ? 'no target'
        : target.kind === 'file'
          ? `file ${target.file}`
          : target.kind === 'prefix'
            ? `prefix ${target.prefix}${target.stream ? ` (stream ${target.stream})` : ''}${at(target.context)}`
            : `stream ${target.stream}${at(target.context)}${target.created === false && result.dryRun ? ' (to be created)' : target.created ? ' (created)' : ''}${target.reconfigured === undefined ? '' : target.reconfigured ? ' (allow_batched set)' : ' (allow_batched to be set)'}`
    const modeNames = {batch: 'fast batches', async: 'pipelined, one acknowledgement per event'}
    const publishing = result.publishMode ? `Publishing: ${modeNames[result.publishMode.mode]} (${result.publishMode.reason})` : undefined
    const ref = (e: ReplayResult['first']) => (e ? `[${e.seq}] ${e.subject} ${e.time}` : '-')
    if (result.dryRun) {
      const lines = [`Replay ${result.replayId} (dry run): ${plural(result.selected, 'event')} from ${from} -> ${to}`, ...(publishing ? [publishing] : []), `First: ${ref(result.first)}`, `Last:  ${ref(result.last)}`, '']
      const table = (title: string, counts: Record<string, number>) => renderCounts(title, counts, {style: this.style, width: this.width})
      if (result.selected > 0) lines.push(table('DOMAIN', result.byDomain ?? {}), '', table('EVENT TYPE', result.byEventType ?? {}), '')
      if (target.problem) lines.push(`Note: the replay itself would fail: ${target.problem}`)
      const estimate = estimatePhrase(result.selected, result.estimatedSeconds)
      lines.push(`${estimate ? `Estimated time: ${estimate}. ` : ''}Nothing was changed.`)
      this.print(lines.join('\n'))
      return
    }
    const dup = result.duplicates > 0 ? `, ${result.duplicates} already there (duplicates)` : ''
    this.print(
      [
        `Replay ${result.replayId}${result.resumed ? ' (resumed)' : ''}: ${plural(result.selected, 'event')} from ${from} -> ${to}`,
        `${result.published} ${result.target.kind === 'file' ? 'written' : 'stored'}${dup}, ${formatBytes(result.bytes)} in ${formatSeconds(result.durationSeconds)} (${result.rate} events/s)`,
        ...(publishing ? [publishing] : []),
        `First: ${ref(result.first)}`,
        `Last:  ${ref(result.last)}`,
      ].join('\n'),
    )
  }
}

/**
 * A resume reads and publishes where the replay started: a --context or --to-context that names another site is
 * refused (the same replay ids at another stream would deduplicate against nothing, or against other events).
 */
function checkResumeSites(saved: ReplayState, sourceContext: string | undefined, toContext: string | undefined): void {
  const readAt = 'stream' in saved.source ? saved.source.context : undefined
  if (readAt !== undefined && readAt !== sourceContext) {
    throw new UsageError(`replay ${saved.replayId} reads at context ${readAt}, not ${sourceContext ?? 'the connection given'}`, 'a resumed replay keeps its source', {hint: `add --context ${readAt}`})
  }
  const publishedAt = ('context' in saved.target ? saved.target.context : undefined) ?? sourceContext
  if (toContext !== undefined && toContext !== publishedAt) {
    throw new UsageError(`replay ${saved.replayId} publishes at context ${publishedAt ?? 'of its source'}, not ${toContext}`, 'a resumed replay keeps its target', {hint: 'leave --to-context out'})
  }
}

/** `--rate 5000` or `--rate 5000/s`. */
function parseRate(text: string): number {
  const match = /^\s*(\d+)\s*(?:\/s)?\s*$/.exec(text)
  if (!match) throw new UsageError(`invalid --rate "${text}"`, 'expected events per second, such as 5000 or 5000/s')
  return Number(match[1])
}

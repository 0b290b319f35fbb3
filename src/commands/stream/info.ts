import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {formatBytes, formatSeconds, plural} from '../../lib/core/output/units.js'
import {ago, renderFields, renderReplicas} from '../../lib/streams/format.js'
import type {StreamRow} from '../../lib/streams/stream-report.js'

export default class StreamInfo extends BaseCommand<typeof StreamInfo> {
  static summary = 'One stream in detail: configuration, limits, state, replicas and sources'
  static description = `STREAM defaults to the context's events stream (EVENTS).
A stream that does not exist exits 2, naming the streams that do; NATS unreachable exits 69.`
  static examples = ['<%= config.bin %> stream info', '<%= config.bin %> stream info CIM_OPS', '<%= config.bin %> stream info EVENTS --json | jq .cluster']
  static args = {
    stream: Args.string({description: 'Stream to show [default: the context\'s events stream].'}),
  }

  async run(): Promise<StreamRow> {
    const {fetchStreamInfo} = await import('../../lib/streams/stream-report.js')
    const stream = this.args.stream ?? (await this.context()).streams.events
    const row = await fetchStreamInfo(await this.nats(), stream)
    this.print(this.render(row))
    return row
  }

  private render(s: StreamRow): string {
    const since = (iso: string | null) => (iso === null ? null : Math.max(0, (Date.now() - Date.parse(iso)) / 1000))
    const limit = (value: number | undefined, show: (v: number) => string = String) => (value === undefined ? 'unlimited' : show(value))
    const l = s.limits
    const sources = s.sources.map(
      (source) =>
        `${source.kind} ${source.name}${source.filterSubject ? ` (${source.filterSubject})` : ''}: lag ${source.lag}, active ${source.activeSeconds === undefined ? 'never' : `${formatSeconds(source.activeSeconds)} ago`}${source.error ? `, error: ${source.error}` : ''}`,
    )
    return [
      this.style.bold(`Stream ${s.name}`),
      renderFields(
        [
          ['Description', s.description],
          ['Subjects', s.subjects.join(', ') || '(none: mirror or sourced only)'],
          ['Storage', `${s.storage}, ${s.retention} retention, ${s.replicas === 1 ? '1 replica' : `${s.replicas} replicas`}${s.allowDirect ? ', direct get allowed' : ''}`],
          ['Created', `${s.created} (${ago(since(s.created))})`],
          ['Limits', `messages ${limit(l.maxMessages)}, bytes ${limit(l.maxBytes, formatBytes)}, age ${limit(l.maxAgeSeconds, formatSeconds)}, per subject ${limit(l.maxMessagesPerSubject)}, message size ${limit(l.maxMessageSize, formatBytes)}, discard ${l.discard}`],
          ['Duplicate window', l.duplicateWindowSeconds === undefined ? undefined : formatSeconds(l.duplicateWindowSeconds)],
          ['Messages', `${s.messages} (${formatBytes(s.bytes)})`],
          ['First', s.messages === 0 ? `${s.firstSeq}` : `${s.firstSeq} at ${s.firstTime} (${ago(since(s.firstTime))})`],
          ['Last', s.messages === 0 ? `${s.lastSeq}` : `${s.lastSeq} at ${s.lastTime} (${ago(since(s.lastTime))})`],
          ['Deleted', String(s.deleted)],
          ['Lost', s.lost ? `${plural(s.lost.messages, 'message')} (${formatBytes(s.lost.bytes)})` : undefined],
          ['Subjects stored', s.subjectCount === null ? undefined : String(s.subjectCount)],
          ['Consumers', String(s.consumers)],
          ['Replicas', renderReplicas(s.cluster ?? undefined)],
          ['Sources', sources.length > 0 ? sources.join('; ') : undefined],
          ['API level', s.apiLevel > 0 ? String(s.apiLevel) : undefined],
        ],
        this.style.dim,
      ),
    ].join('\n')
  }
}

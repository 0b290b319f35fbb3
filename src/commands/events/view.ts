import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {plural} from '../../lib/core/output/units.js'
import type {EventRecord, ViewStart} from '../../lib/streams/events.js'
import {eventSelectionFlags} from '../../flags/streams.js'

const POSITION = 'POSITION'

export default class EventsView extends BaseCommand<typeof EventsView> {
  static summary = 'Print stored events: sequence, time, subject, headers and the JSON body'
  static description = `Non-interactive: one page per run, chosen by flags, and it never waits for new events — it stops at the stream's last sequence as of the start (use \`events tail\` to follow).
Where to start (one of): from the first event (default), --seq N, --since (a duration back from now or an RFC 3339 time), or --last N (the last N matching events).
What to show: --subject F (wildcards * and >; several --subject need nats-server >= 2.10), or the CIM shortcuts --domain D (cim.D.>) and --aggregate ID (cim.*.*.ID.*; with --domain, cim.D.*.ID.*).
Each event prints as "[seq] Subject: s Received: time", its headers, then the body (pretty JSON when it is JSON). --raw prints only the bodies, exactly as stored, one per line. --json prints an array of {seq, time, subject, headers, data}.
When more events follow the page, stderr tells the --seq of the next page. Reads with an ordered consumer (ephemeral, in memory, removed afterwards).
STREAM defaults to the context's events stream (EVENTS).`
  static examples = [
    {description: 'The first 20 events of the events stream', command: '<%= config.bin %> events view'},
    {description: 'The last 5 events of the workflow domain', command: '<%= config.bin %> events view EVENTS --domain workflow --last 5'},
    {description: "One aggregate's history", command: '<%= config.bin %> events view --aggregate wf-0007 --count 100'},
    {description: 'What happened in the last 10 minutes, next page from sequence 4711', command: '<%= config.bin %> events view --since 10m --count 50 && <%= config.bin %> events view --seq 4711 --count 50'},
    '<%= config.bin %> events view --subject \'cim.graph.node.*.NodeAdded\' --json | jq \'.[].data.data.label\'',
    '<%= config.bin %> events view --last 1 --raw',
  ]
  static args = {
    stream: Args.string({description: 'Stream to read [default: the context\'s events stream].'}),
  }
  static flags = {
    ...eventSelectionFlags(),
    seq: Flags.integer({min: 1, summary: 'Start at this stream sequence.', exclusive: ['since', 'last'], helpGroup: POSITION}),
    since: Flags.string({summary: 'Start at this time: a duration back from now (90s, 2h, 1d) or RFC 3339.', exclusive: ['seq', 'last'], helpGroup: POSITION}),
    last: Flags.integer({min: 1, summary: 'The last N matching events.', exclusive: ['seq', 'since'], helpGroup: POSITION}),
    count: Flags.integer({min: 1, max: 10_000, default: 20, summary: 'Events per page.', helpGroup: POSITION}),
    raw: Flags.boolean({summary: 'Only the bodies, exactly as stored, one per line.'}),
  }

  async run(): Promise<EventRecord[]> {
    const ctx = await this.context()
    const f = this.flags
    const [events, {parseTimeFlag}] = await Promise.all([import('../../lib/streams/events.js'), import('../../lib/core/time-flag.js')])
    const filters = events.eventFilters({subjects: f.subject, domain: f.domain, aggregate: f.aggregate})
    let start: ViewStart = {first: true}
    if (f.seq !== undefined) start = {seq: f.seq}
    else if (f.last !== undefined) start = {last: f.last}
    else if (f.since !== undefined) start = {since: parseTimeFlag('--since', f.since, new Date())}
    if (f.raw && this.jsonEnabled()) throw new UsageError('--raw cannot be combined with --json', 'one prints bodies as stored, the other a JSON array')
    const stream = this.args.stream ?? ctx.streams.events
    const page = await events.viewEvents(await (await this.nats()).jetstream(), {stream, filters, start, count: f.count, signal: this.signal})

    if (f.raw) {
      for (const event of page.events) {
        process.stdout.write(event.data)
        process.stdout.write('\n')
      }
    } else if (page.events.length > 0) {
      this.print(page.events.map((event) => events.formatEvent(event)).join('\n'))
    }
    const what = filters.length > 0 ? ` matching ${filters.join(', ')}` : ''
    if (page.events.length === 0) this.note(this.style.dim(`No events${what} in ${page.stream} from there (last sequence ${page.endSeq}).`))
    else if (page.nextSeq !== null) {
      this.note(this.style.dim(`${plural(page.events.length, 'event')}${what}, sequences ${page.events[0].seq}-${page.events.at(-1)!.seq}; next page: --seq ${page.nextSeq}`))
    }
    return page.events.map((event) => events.toEventRecord(event))
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {redact} from '../../lib/core/redact.js'
import {eventSelectionFlags} from '../../flags/streams.js'

export default class EventsTail extends BaseCommand<typeof EventsTail> {
  static summary = 'Follow new events live until Ctrl-C'
  static description = `Prints each event as it is stored, in the layout of \`events view\` (--raw: bodies only; --json: one JSON object per line, {seq, time, subject, headers, data}).
Starts with the next event stored; Ctrl-C stops it (exit 130) without printing anything more. Reads with an ordered consumer, which rides out a server restart.
STREAM defaults to the context's events stream (EVENTS).`
  static examples = [
    '<%= config.bin %> events tail',
    '<%= config.bin %> events tail --domain workflow',
    "<%= config.bin %> events tail EVENTS --subject 'cim.graph.*.*.NodeRemoved' --json | jq -c '{seq, subject}'",
  ]
  static args = {
    stream: Args.string({description: 'Stream to follow [default: the context\'s events stream].'}),
  }
  static flags = {
    ...eventSelectionFlags(),
    raw: Flags.boolean({summary: 'Only the bodies, exactly as stored, one per line.'}),
  }

  async run(): Promise<void> {
    const ctx = await this.context()
    const f = this.flags
    if (f.raw && this.jsonEnabled()) throw new UsageError('--raw cannot be combined with --json', 'one prints bodies as stored, the other JSON lines')
    const events = await import('../../lib/streams/events.js')
    const filters = events.eventFilters({subjects: f.subject, domain: f.domain, aggregate: f.aggregate})
    const json = this.jsonEnabled()
    // Following rides out a server restart.
    await events.tailEvents(await (await this.nats({reconnect: true})).jetstream(), {
      stream: this.args.stream ?? ctx.streams.events,
      filters,
      signal: this.signal,
      onEvent: (event) => {
        if (f.raw) {
          process.stdout.write(event.data)
          process.stdout.write('\n')
        } else if (json) process.stdout.write(`${JSON.stringify(redact(events.toEventRecord(event)))}\n`)
        else this.print(events.formatEvent(event))
      },
    })
  }
}

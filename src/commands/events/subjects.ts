import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {SUBJECT_SORTS, type SubjectCounts} from '../../lib/streams/events.js'
import {renderSubjects} from '../../lib/streams/render.js'

export default class EventsSubjects extends BaseCommand<typeof EventsSubjects> {
  static summary = 'Subjects holding events and how many each, most first'
  static description = `Asks the server (stream info with a subjects filter) for every subject matching FILTER that holds messages, with its message count.
STREAM defaults to the context's events stream (EVENTS); FILTER to > (everything).`
  static examples = [
    '<%= config.bin %> events subjects',
    "<%= config.bin %> events subjects EVENTS 'cim.workflow.>'",
    "<%= config.bin %> events subjects EVENTS 'cim.*.*.*.NodeAdded' --sort name --json",
  ]
  static args = {
    stream: Args.string({description: 'Stream [default: the context\'s events stream].'}),
    filter: Args.string({description: 'Subject filter; wildcards * and >.', default: '>'}),
  }
  static flags = {
    sort: Flags.option({options: SUBJECT_SORTS, default: 'count' as const, summary: 'count: most messages first; name: A-Z.'})(),
    limit: Flags.integer({min: 1, summary: 'Show only the first N subjects (JSON always has all).'}),
  }

  async run(): Promise<SubjectCounts> {
    const ctx = await this.context()
    const {subjectCounts} = await import('../../lib/streams/events.js')
    const result = await subjectCounts(await (await this.nats()).jetstream(), {stream: this.args.stream ?? ctx.streams.events, filter: this.args.filter, sort: this.flags.sort})
    const shown = this.flags.limit === undefined ? result.subjects : result.subjects.slice(0, this.flags.limit)
    this.print(renderSubjects(result, shown, {style: this.style, width: this.width}))
    return result
  }
}

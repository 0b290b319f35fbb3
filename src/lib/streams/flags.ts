import {Flags} from '@oclif/core'

import {STREAM_SORTS} from './stream-report.js'

/** Flags shared by `stream list` and `stream report`, which read the same report. */
export const STREAM_REPORT_FLAGS = {
  sort: Flags.option({options: STREAM_SORTS, default: 'name' as const, summary: 'name: A-Z; messages, bytes, consumers: biggest first.'})(),
  subject: Flags.string({summary: 'Only streams whose subjects overlap this subject filter.'}),
}

import {Flags} from '@oclif/core'

import {STREAM_SORTS} from '../lib/streams/stream-report.js'

/** Flags shared by `stream list` and `stream report`, which read the same report. */
export const STREAM_REPORT_FLAGS = {
  sort: Flags.option({options: STREAM_SORTS, default: 'name' as const, summary: 'name: A-Z; messages, bytes, consumers: biggest first.'})(),
  subject: Flags.string({summary: 'Only streams whose subjects overlap this subject filter.'}),
}

/**
 * How `events view`, `events tail` and `replay` pick events (mapped onto CIM subjects by `eventFilters`/`replayFilters`).
 * Only --subject's summary differs: replay applies several filters client-side where the server takes one.
 */
export function eventSelectionFlags(subjectSummary = 'Subject filter (repeatable on nats-server >= 2.10).') {
  return {
    subject: Flags.string({multiple: true, summary: subjectSummary, helpGroup: 'SELECT'}),
    domain: Flags.string({summary: 'CIM domain: events on cim.<domain>.>.', helpGroup: 'SELECT'}),
    aggregate: Flags.string({summary: 'CIM aggregate id: events on cim.*.*.<id>.*.', helpGroup: 'SELECT'}),
  }
}

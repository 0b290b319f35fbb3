import type {ConsumerReport, ConsumerRow} from './consumer-report.js'

/**
 * Backlog trend for `consumer report --watch`: how fast each consumer's pending work grows or shrinks
 * between two refreshes, and when it will be caught up at that pace.
 */
export interface BacklogTrend {
  /** Events per second, + growing, - shrinking; null without a previous sample. */
  pendingRate: number | null
  /** 0 when caught up; seconds at the current rate when shrinking; null when not shrinking or unknown. */
  etaSeconds: number | null
}

export function backlogTrend(previous: {pending: number; at: number} | undefined, current: {pending: number; at: number}): BacklogTrend {
  if (current.pending === 0) return {pendingRate: previous ? rate(previous, current) : null, etaSeconds: 0}
  if (!previous || current.at <= previous.at) return {pendingRate: null, etaSeconds: null}
  const perSecond = rate(previous, current)
  return {pendingRate: perSecond, etaSeconds: perSecond < 0 ? current.pending / -perSecond : null}
}

function rate(previous: {pending: number; at: number}, current: {pending: number; at: number}): number {
  const seconds = (current.at - previous.at) / 1000
  return seconds > 0 ? (current.pending - previous.pending) / seconds : 0
}

/**
 * Adds pendingRate and etaSeconds to every row, against the previous report (same stream and consumer).
 * When nothing moved between the two — no delivery, no ack, no new message on the stream — the backlog
 * did not change, whatever num_pending says: nats-server 2.9.10 reports a filtered consumer part-way
 * through with a num_pending that wanders between calls, which would otherwise show as a rate and an ETA.
 */
export function withTrends(previous: ConsumerReport | undefined, current: ConsumerReport): ConsumerReport {
  const at = (report: ConsumerReport) => Date.parse(report.checkedAt)
  const before = new Map((previous?.consumers ?? []).map((row) => [key(row), row]))
  const lastSeq = (report: ConsumerReport | undefined, stream: string) => report?.streams.find((s) => s.name === stream)?.lastSeq
  const consumers = current.consumers.map((row) => {
    const old = before.get(key(row))
    if (!old || !previous) return {...row, ...backlogTrend(undefined, {pending: row.pending, at: at(current)})}
    const still =
      old.delivered.streamSeq === row.delivered.streamSeq &&
      old.ackFloor.streamSeq === row.ackFloor.streamSeq &&
      old.ackPending === row.ackPending &&
      lastSeq(previous, row.stream) === lastSeq(current, row.stream)
    return {...row, ...backlogTrend({pending: still ? row.pending : old.pending, at: at(previous)}, {pending: row.pending, at: at(current)})}
  })
  return {...current, consumers}
}

function key(row: Pick<ConsumerRow, 'stream' | 'name'>): string {
  return `${row.stream}\u0000${row.name}`
}

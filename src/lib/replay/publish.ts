/**
 * The NATS target of a replay: each selected event republished with its deterministic message id
 * through a window of outstanding acknowledgements (the publisher retries across faults), with a
 * checkpoint in the state file every few thousand acknowledged events. At the end every selected
 * event must be accounted for: stored, a duplicate, or found in the target already.
 *
 * Two publishers do this: the pipelined one (an acknowledgement per event, any server) and fast
 * batches (an acknowledgement per flow window, nats-server 2.14+ with `allow_batched` on the target).
 */
import {setTimeout as delay} from 'node:timers/promises'

import type {ReplayPublishing} from '../adapters/nats/replay-publish.js'
import {ExitCode, InterruptedError, isCimopsError, OperationError} from '../core/errors.js'
import type {JetStreamSession} from '../adapters/nats/session.js'
import {ReplayCheckpoint, replayStateDir} from './checkpoint.js'
import type {Delivery, ReplayRun} from './model.js'
import {emptySelection, resumeHint} from './outcome.js'
import {reportProgress} from './progress.js'
import type {PublishMode} from './publish-mode.js'
import {replayHeaders, targetSubject} from './selection.js'
import {faultToleranceMs, type ReaderHandle, type ReplaySource} from './source.js'
import type {SelectionTally} from './tally.js'
import {destinationOf, replayedAfter} from './target.js'

export async function publishToStream(session: JetStreamSession, targetStream: string, mode: PublishMode['mode'], run: ReplayRun, source: ReplaySource, tally: SelectionTally): Promise<Delivery & {stateFile: string}> {
  const {plan, options, startSeq, resumeFrom} = run
  // After kill -9 the checkpoint lags what the target holds. Resuming from the checkpoint is always safe
  // (the same message ids are deduplicated), but only within the target's duplicate window: so what this
  // replay already stored after the checkpoint is read back from the target and skipped.
  const present = resumeFrom ? await replayedAfter(session, targetStream, plan, startSeq - 1) : new Set<number>()
  let skipped = 0
  const [{encodeHeaders, ReplayPublisher}, {FastBatchPublisher}, {expectStreamHeader}, {findStream}] = await Promise.all([
    import('../adapters/nats/replay-publish.js'),
    import('../adapters/nats/fast-batch.js'),
    import('../adapters/nats/headers.js'),
    import('../adapters/nats/jetstream.js'),
  ])
  // A fast batch confirms stored events without telling duplicates apart (the server skips them silently): they are
  // counted from how far the target's last sequence moved, exact when nothing else publishes to the target meanwhile.
  const targetLastSeq = async () => (await findStream(session.jsm, targetStream, session.address, session.timeoutMs))?.lastSeq ?? 0
  const lastSeqBefore = mode === 'batch' ? await targetLastSeq() : 0
  const checkpoint = await ReplayCheckpoint.open(plan, options.stateDir ?? replayStateDir(), resumeFrom?.doneSeq ?? startSeq - 1)
  let reader: ReaderHandle | undefined
  const Publisher = mode === 'batch' ? FastBatchPublisher : ReplayPublisher
  const publisher: ReplayPublishing = new Publisher({
    nc: session.nc,
    address: session.address,
    stream: targetStream,
    maxInFlight: plan.maxInFlight,
    timeoutMs: session.timeoutMs,
    retryForMs: faultToleranceMs(session),
    rate: plan.rate,
    signal: options.signal,
    onRoom: () => {
      if (publisher.failure !== undefined) reader?.cancel(publisher.failure)
      else reader?.wake()
      checkpoint.advance(publisher.stats.doneSeq, (error) => reader?.cancel(error))
    },
  })
  await publisher.open()
  const {stats} = publisher
  const stopProgress = reportProgress(run, () => ({selected: tally.selected, published: stats.stored + stats.duplicates, lastSeq: stats.doneSeq || startSeq - 1}))
  options.onStart?.(plan)
  const destination = destinationOf(plan)
  const expected = expectStreamHeader(targetStream)
  try {
    await source.read(
      {
        onEvent: (event) => {
          if (present.has(event.seq)) {
            skipped++
            return
          }
          const headers = replayHeaders(event.headers, plan.replayId, source.label, event.seq)
          headers.push(expected)
          publisher.publish({seq: event.seq, subject: targetSubject(event.subject, destination), data: event.data, headers: encodeHeaders(headers)})
        },
        room: () => publisher.room(),
        whenRoom: () => publisher.whenRoom(),
        attach: (r) => (reader = r),
      },
      false,
    )
    await publisher.drain()
    await checkpoint.settled()
    publisher.close()
  } catch (error) {
    stopProgress()
    throw await stopPublishing(error, publisher, checkpoint, run, session.timeoutMs)
  }
  stopProgress()
  // The final verification: every selected event was acknowledged (or found stored), none is unaccounted for.
  const acknowledged = stats.stored + stats.duplicates + skipped
  if (acknowledged !== tally.selected) {
    await checkpoint.save({status: 'failed', error: `acknowledged ${acknowledged} of ${tally.selected}`})
    throw new OperationError(`replay ${plan.replayId} is incomplete`, `${acknowledged} of ${tally.selected} events were acknowledged`, {hint: resumeHint(plan)})
  }
  if (tally.selected === 0 && !resumeFrom) {
    await checkpoint.save({status: 'failed', error: 'nothing selected'})
    throw emptySelection(plan)
  }
  await checkpoint.save({status: 'completed', doneSeq: plan.toSeq})
  if (mode === 'batch') {
    const stored = Math.max(0, Math.min(stats.stored, (await targetLastSeq()) - lastSeqBefore))
    return {published: stored, duplicates: stats.stored - stored + skipped, bytes: stats.bytes, retries: stats.retries, stateFile: checkpoint.file}
  }
  return {published: stats.stored, duplicates: stats.duplicates + skipped, bytes: stats.bytes, retries: stats.retries, stateFile: checkpoint.file}
}

/**
 * Ends a publish that failed or was interrupted: the state file records how far acknowledgements got
 * and why it stopped. Returns the error to throw, with the resume hint where resuming can help.
 */
async function stopPublishing(error: unknown, publisher: ReplayPublishing, checkpoint: ReplayCheckpoint, {plan, options}: ReplayRun, timeoutMs: number): Promise<unknown> {
  const interrupted = options.signal?.aborted === true || (isCimopsError(error) && error.code === 'INTERRUPTED')
  // What was sent is still acknowledged (bounded by the timeout), so the checkpoint is as far as it can be.
  if (interrupted) await Promise.race([publisher.drain(), delay(timeoutMs)]).catch(() => undefined)
  publisher.close()
  await checkpoint.idle()
  const {doneSeq} = publisher.stats
  await checkpoint
    .save({status: interrupted ? 'interrupted' : 'failed', error: error instanceof Error ? error.message : String(error), ...(doneSeq > 0 ? {doneSeq: Math.max(checkpoint.doneSeq, doneSeq)} : {})})
    .catch(() => undefined)
  const hint = resumeHint(plan)
  if (interrupted) return new InterruptedError(`replay ${plan.replayId} interrupted after ${publisher.stats.stored + publisher.stats.duplicates} events`, {hint})
  // Bad input is not resumable: the same input fails the same way.
  if (isCimopsError(error) && error.exit !== ExitCode.DATA) return Object.assign(error, {hint: error.hint ? `${error.hint}; ${hint}` : hint})
  return error
}

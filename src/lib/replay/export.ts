/**
 * The file target of a replay: the selection written to a temp file and renamed at the end, read no
 * faster than the file takes it. A failed or empty export leaves no file behind.
 */
import type {Delivery, ReplayRun} from './model.js'
import {emptySelection} from './outcome.js'
import {reportProgress} from './progress.js'
import type {ReplaySource} from './source.js'
import type {SelectionTally} from './tally.js'

export async function exportToFile(path: string, run: ReplayRun, source: ReplaySource, tally: SelectionTally): Promise<Delivery> {
  const {openReplayFile} = await import('./file.js')
  const writer = openReplayFile(path)
  let written = 0
  let bytes = 0
  const stopProgress = reportProgress(run, () => ({selected: tally.selected, published: written, lastSeq: tally.lastSeq ?? run.startSeq - 1}))
  let full = false
  try {
    await source.read(
      {
        onEvent: (event) => {
          full = !writer.write(event)
          written++
          bytes += event.data.length
        },
        room: () => (full ? 0 : Number.MAX_SAFE_INTEGER),
        whenRoom: async () => {
          await writer.drained()
          full = false
        },
        attach: (reader) => {
          writer.onDrain(() => {
            full = false
            reader.wake()
          })
        },
      },
      false,
    )
  } catch (error) {
    await writer.discard()
    throw error
  } finally {
    stopProgress()
  }
  if (tally.selected === 0) {
    await writer.discard()
    throw emptySelection(run.plan)
  }
  await writer.close()
  return {published: written, duplicates: 0, bytes, retries: 0}
}

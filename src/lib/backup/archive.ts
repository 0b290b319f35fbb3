/**
 * A set's snapshot archives, read end to end before anything trusts them: `backup verify` and every
 * restore (before it deletes a stream) decompress the whole archive and check its structure, and a
 * restore refuses an archive format the target server cannot read.
 */
import {type ArchiveFormat, archiveFormat, inspectArchive, type ArchiveSummary} from '../adapters/nats/backup-archive.js'
import {serverFeatures} from '../adapters/nats/versions.js'
import {DataError, UsageError} from '../core/errors.js'
import {readChunks} from './file-sink.js'

const READ_CHUNK = 1024 * 1024

/** The whole archive, decompressed and parsed; the problem as one phrase when it is not intact. */
export async function checkArchive(path: string, stream: string): Promise<{summary?: ArchiveSummary; problem?: string}> {
  try {
    const summary = await inspectArchive(readChunks(path, READ_CHUNK))
    // The server refuses a legacy archive whose meta.inf names another stream, after the upload.
    if (summary.stream !== undefined && summary.stream !== stream) return {summary, problem: `the archive holds stream ${JSON.stringify(summary.stream)}, not ${stream}`}
    return {summary}
  } catch (error) {
    if (error instanceof DataError) return {problem: error.why}
    throw error
  }
}

const FORMAT_NAMES: Record<ArchiveFormat, string> = {tar: 'legacy tar archive', v2: 'backup V2 archive (NATSARC1)'}

/**
 * Refuses an archive the target cannot restore, before any stream is touched: a V2 archive (made by
 * nats-server 2.15+) fails on older servers only after the upload, with "archive/tar: invalid tar header".
 */
export async function assertServerReadsArchive(path: string, stream: string, server: {version: string; address: string}): Promise<ArchiveFormat> {
  const format = await archiveFormat(readChunks(path, READ_CHUNK)).catch((error: unknown) => {
    if (error instanceof DataError) throw new DataError(`the archive of ${stream} is corrupt`, error.why, {hint: `nothing was changed; check the set with \`cimops backup verify\``})
    throw error
  })
  const features = serverFeatures(server.version)
  if (format === 'v2' && !features.has('backupArchiveV2')) {
    throw new UsageError(`nats-server ${server.version} at ${server.address} cannot restore ${stream}`, `its archive is a ${FORMAT_NAMES.v2}, which needs nats-server ${features.requires('backupArchiveV2')} or newer`, {
      hint: 'nothing was changed; restore into a newer server, or take a logical backup (cimops backup create --logical), which any server restores',
    })
  }
  return format
}

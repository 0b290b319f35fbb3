import {createHash, type Hash} from 'node:crypto'
import {open, type FileHandle} from 'node:fs/promises'

/** datasync after this many bytes written. */
const SYNC_EVERY_BYTES = 16 * 1024 * 1024
/** Write once this much is queued. */
const WRITE_BATCH_BYTES = 1024 * 1024

/**
 * Writes chunks to a new file in order as they arrive, hashing them on the way, without ever holding
 * more than what the disk has not taken yet. push() is synchronous (it runs inside a NATS callback);
 * the writes happen in the background, batched with writev. finish() flushes, fsyncs and closes.
 */
export class FileSink {
  private readonly hash: Hash = createHash('sha256')
  private queue: Uint8Array[] = []
  private queuedBytes = 0
  private writing: Promise<void> | undefined
  private failure: unknown
  private closed = false
  private unsynced = 0
  private syncing: Promise<unknown> | undefined
  size = 0

  private constructor(private readonly handle: FileHandle, readonly path: string) {}

  /** Creates the file; it must not exist. */
  static async create(path: string): Promise<FileSink> {
    return new FileSink(await open(path, 'wx', 0o600), path)
  }

  get pendingBytes(): number {
    return this.queuedBytes
  }

  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure
    if (this.closed) throw new Error(`FileSink: ${this.path} is closed`)
    if (chunk.length === 0) return
    this.hash.update(chunk)
    this.size += chunk.length
    this.queue.push(chunk)
    this.queuedBytes += chunk.length
    // Batched: one writev per MiB or so, not one per chunk (fewer syscalls and wake-ups; the CPU is the server's too).
    if (this.queuedBytes >= WRITE_BATCH_BYTES) this.writing ??= this.drain()
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue
        this.queue = []
        let bytes = 0
        for (const chunk of batch) bytes += chunk.length
        let written = 0
        // writev may write less than asked; continue from where it stopped.
        let buffers = batch
        while (written < bytes) {
          const {bytesWritten} = await this.handle.writev(buffers)
          written += bytesWritten
          if (written < bytes) buffers = remaining(batch, written)
        }
        this.queuedBytes -= bytes
        this.unsynced += bytes
        // Start writeback as we go, without waiting for it, so finish() has little left to sync.
        if (this.unsynced >= SYNC_EVERY_BYTES && !this.syncing) {
          this.unsynced = 0
          this.syncing = this.handle.datasync().then(
            () => (this.syncing = undefined),
            () => (this.syncing = undefined),
          )
        }
      }
    } catch (error) {
      this.failure = error
    } finally {
      this.writing = undefined
    }
  }

  /** Waits until everything pushed so far is written (not synced). */
  async flush(): Promise<void> {
    if (this.queue.length > 0) this.writing ??= this.drain()
    while (this.writing) await this.writing
    if (this.failure) throw this.failure
  }

  /** Writes the rest, fsyncs, closes; returns the file's size and sha256. */
  async finish(): Promise<{size: number; sha256: string}> {
    try {
      await this.flush()
      await this.syncing
      await this.handle.sync()
    } finally {
      this.closed = true
      await this.handle.close().catch(() => {})
    }
    return {size: this.size, sha256: this.hash.digest('hex')}
  }

  /** Stops without flushing (the file stays as it is, inside a .partial set). */
  async abort(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.queue = []
    await this.writing?.catch(() => {})
    await this.syncing
    await this.handle.close().catch(() => {})
  }
}

function remaining(batch: Uint8Array[], skip: number): Uint8Array[] {
  const rest: Uint8Array[] = []
  let offset = skip
  for (const chunk of batch) {
    if (offset >= chunk.length) {
      offset -= chunk.length
      continue
    }
    rest.push(offset > 0 ? chunk.subarray(offset) : chunk)
    offset = 0
  }
  return rest
}

/** fsync a directory, so a rename or a new file in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch (error) {
    // Some filesystems refuse fsync on directories; the data files themselves are synced.
    if (!['EINVAL', 'EISDIR', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
  } finally {
    await handle.close()
  }
}

/** A file's sha256 and size, streamed. */
export async function hashFile(path: string, onBytes?: (bytes: number) => void): Promise<{size: number; sha256: string}> {
  const hash = createHash('sha256')
  const handle = await open(path, 'r')
  let size = 0
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024)
    for (;;) {
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      size += bytesRead
      onBytes?.(bytesRead)
    }
  } finally {
    await handle.close()
  }
  return {size, sha256: hash.digest('hex')}
}

/**
 * A file in chunks of `chunkSize` (fresh buffers: they may be held by the consumer). The next chunk is
 * read while the consumer works on the current one (a restore waits for the server's ack meanwhile).
 */
export async function* readChunks(path: string, chunkSize: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r')
  let position = 0
  const readOne = async (): Promise<Uint8Array | undefined> => {
    const buffer = Buffer.allocUnsafe(chunkSize)
    let filled = 0
    while (filled < chunkSize) {
      const {bytesRead} = await handle.read(buffer, filled, chunkSize - filled, position + filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    position += filled
    return filled === 0 ? undefined : buffer.subarray(0, filled)
  }
  let next = readOne()
  try {
    for (;;) {
      const chunk = await next
      if (!chunk) return
      next = readOne()
      yield chunk
    }
  } finally {
    await next.catch(() => undefined)
    await handle.close()
  }
}

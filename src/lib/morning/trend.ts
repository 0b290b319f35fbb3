/**
 * The backlog trend compares each consumer's pending work with the previous morning check's, kept per
 * context in `$CIMOPS_DATA_DIR/morning-check/<context>.json` (written after every run, atomically).
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import {cimopsDataDir} from '../core/paths.js'
import type {PendingSnapshot} from './areas.js'

export function snapshotFile(context: string | undefined, dir = join(cimopsDataDir(), 'morning-check')): string {
  return join(dir, `${(context ?? 'default').replaceAll(/[^\w.-]/g, '_')}.json`)
}

/** The previous snapshot, or undefined (first run, unreadable file). */
export async function readSnapshot(file: string): Promise<PendingSnapshot | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as PendingSnapshot
    if (typeof data.at !== 'string' || typeof data.pending !== 'object' || data.pending === null) return undefined
    return data
  } catch {
    return undefined
  }
}

export async function writeSnapshot(file: string, snapshot: PendingSnapshot): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(snapshot)}\n`, 0o600)
}

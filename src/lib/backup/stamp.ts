/**
 * `<set>/.cimops-verified`: written by a `backup verify` that found the set intact, read by `backup
 * list`. It names the manifest it checked (by sha256) and when the check started: a set whose
 * manifest or any file changed since counts as unverified again.
 */
import {createHash} from 'node:crypto'
import {lstat, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import {type Manifest, MANIFEST_FILE} from './manifest.js'

export const VERIFIED_FILE = '.cimops-verified'

interface Stamp {
  verifiedAt: string
  deep: boolean
  manifestSha256: string
}

export async function writeVerifiedStamp(setDir: string, verifiedAt: Date, deep: boolean): Promise<void> {
  const stamp: Stamp = {verifiedAt: verifiedAt.toISOString(), deep, manifestSha256: await manifestSha256(setDir)}
  await writeFileAtomic(join(setDir, VERIFIED_FILE), `${JSON.stringify(stamp)}\n`)
}

/** When the set was last found intact, if nothing in it changed since; else undefined. */
export async function verifiedAt(setDir: string, manifest: Manifest): Promise<{verifiedAt: string; deep: boolean} | undefined> {
  try {
    const stamp = JSON.parse(await readFile(join(setDir, VERIFIED_FILE), 'utf8')) as Partial<Stamp>
    const time = Date.parse(stamp.verifiedAt ?? '')
    if (Number.isNaN(time) || stamp.manifestSha256 !== (await manifestSha256(setDir))) return undefined
    for (const path of [MANIFEST_FILE, ...manifest.streams.flatMap((stream) => stream.files.map((file) => file.path))]) {
      if ((await lstat(join(setDir, path))).mtimeMs > time) return undefined
    }
    return {verifiedAt: stamp.verifiedAt!, deep: stamp.deep === true}
  } catch {
    return undefined
  }
}

async function manifestSha256(setDir: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(join(setDir, MANIFEST_FILE)))
    .digest('hex')
}

import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {serverVersionNeeded} from '../../../src/lib/backup/ephemeral.js'
import type {LoadedSet} from '../../../src/lib/backup/integrity.js'
import type {Manifest} from '../../../src/lib/backup/manifest.js'
import {s2Stream, tarArchive, v2Archive} from '../../helpers/archive.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cimops-unit-needed-'))
})
afterEach(() => rm(root, {recursive: true, force: true}))

/** A set of one stream whose snapshot archive holds `archive`, as loadSet gives it. */
async function setWith(serverVersion: string, archive: Buffer): Promise<LoadedSet> {
  await mkdir(join(root, 'EVENTS'))
  await writeFile(join(root, 'EVENTS', 'backup.json'), '{}')
  await writeFile(join(root, 'EVENTS', 'stream.tar.s2'), archive)
  const files = [
    {path: 'EVENTS/backup.json', sha256: '', size: 2},
    {path: 'EVENTS/stream.tar.s2', sha256: '', size: archive.length},
  ]
  const manifest = {serverVersion, mode: 'snapshot', streams: [{name: 'EVENTS', dir: 'EVENTS', files}]} as unknown as Manifest
  return {dir: root, manifest, source: serverVersion === 'unknown' ? 'natscli' : 'cimops'}
}

describe('the oldest nats-server that can read a set (the throwaway server of verify --deep and drill)', () => {
  it('the writer its manifest records', async () => {
    expect(await serverVersionNeeded(await setWith('2.15.1', s2Stream(tarArchive([['meta.inf', '{}']]))))).toBe('2.15.1')
  })

  it('a natscli set records no writer: 2.15.0 for a V2 archive, which older servers cannot read; any for a tar', async () => {
    expect(await serverVersionNeeded(await setWith('unknown', s2Stream(v2Archive({messages: ['a']}))))).toBe('2.15.0')
    await rm(join(root, 'EVENTS'), {recursive: true})
    expect(await serverVersionNeeded(await setWith('unknown', s2Stream(tarArchive([['meta.inf', '{}']]))))).toBeUndefined()
  })
})

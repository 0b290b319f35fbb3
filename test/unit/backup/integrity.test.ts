import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {checkFiles, loadSet} from '../../../src/lib/backup/integrity.js'
import {snapshotFile} from '../../../src/lib/backup/manifest.js'
import {s2Stream, tarArchive, v2Archive} from '../../helpers/archive.js'

const backupJson = JSON.stringify({config: {name: 'EVENTS', subjects: ['cim.>'], storage: 'file', num_replicas: 1}, state: {messages: 2, bytes: 10, first_seq: 1, last_seq: 2}})

describe('natscli backups read as sets, under either archive name', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cimops-natscli-sets-'))
  })
  afterAll(async () => {
    await rm(root, {recursive: true, force: true})
  })

  async function natscliDir(name: string, files: Record<string, Uint8Array | string>): Promise<string> {
    const dir = join(root, name)
    await mkdir(dir)
    for (const [file, data] of Object.entries({'backup.json': backupJson, ...files})) await writeFile(join(dir, file), data)
    return dir
  }

  it('stream.tar.s2 (legacy tar) and stream.arc.s2 (backup V2, nats-server 2.15) are both found and checked whole', async () => {
    const tar = await natscliDir('tar', {'stream.tar.s2': s2Stream(tarArchive([['meta.inf', JSON.stringify({name: 'EVENTS'})]]))})
    const v2 = await natscliDir('v2', {'stream.arc.s2': s2Stream(v2Archive({messages: ['one', 'two']}))})
    for (const [dir, file] of [
      [tar, 'stream.tar.s2'],
      [v2, 'stream.arc.s2'],
    ]) {
      const set = await loadSet(dir)
      expect(snapshotFile(set.manifest.streams[0])).toBe(file)
      expect((await checkFiles(set)).map((check) => [check.path, check.ok, check.problem])).toEqual([
        ['backup.json', true, undefined],
        [file, true, undefined],
      ])
    }
  })

  it('a directory holding both names is refused as ambiguous, as jsm.go refuses it', async () => {
    const archive = s2Stream(v2Archive({messages: ['one']}))
    const both = await natscliDir('both', {'stream.tar.s2': archive, 'stream.arc.s2': archive})
    await expect(loadSet(both)).rejects.toThrow(/holds both stream\.tar\.s2 and stream\.arc\.s2/)
  })
})

describe('a file given where a set is expected', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cimops-set-file-'))
    await mkdir(join(root, 'set', 'EVENTS'), {recursive: true})
    await writeFile(join(root, 'set', 'manifest.json'), '{}')
    await writeFile(join(root, 'set', 'EVENTS', 'stream.tar.s2'), '')
    await writeFile(join(root, 'lonely.json'), '{}')
  })
  afterAll(() => rm(root, {recursive: true, force: true}))

  it('a file of a set names the set to give instead (exit 64)', async () => {
    for (const file of [join(root, 'set', 'manifest.json'), join(root, 'set', 'EVENTS', 'stream.tar.s2')]) {
      await expect(loadSet(file)).rejects.toMatchObject({exit: 64, why: 'a set is the directory that holds manifest.json', hint: `give ${join(root, 'set')}`})
    }
  })

  it('any other file is said to be a file', async () => {
    await expect(loadSet(join(root, 'lonely.json'))).rejects.toMatchObject({exit: 64, why: 'it is a file; a set is a directory'})
  })
})

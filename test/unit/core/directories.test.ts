import {mkdtemp, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeDirectories} from '../../../src/lib/core/directories.js'

describe('makeDirectories (mkdir -p that always ends)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimops-dirs-'))
  })
  afterAll(() => rm(dir, {recursive: true, force: true}))

  it('makes every missing directory with the mode asked, and takes one that exists', async () => {
    const deep = join(dir, 'a', 'b', 'c')
    await makeDirectories(deep, 0o700)
    for (const made of [join(dir, 'a'), join(dir, 'a', 'b'), deep]) expect((await stat(made)).mode & 0o777).toBe(0o700)
    await expect(makeDirectories(deep)).resolves.toBeUndefined()
  })

  it('refuses a path through or onto a file as mkdir would, naming the path asked', async () => {
    await writeFile(join(dir, 'file'), '')
    for (const path of [join(dir, 'file'), join(dir, 'file', 'x', 'y')]) {
      await expect(makeDirectories(path)).rejects.toMatchObject({code: 'ENOTDIR', syscall: 'mkdir', path})
    }
  })

  it('ends with mkdir\'s own error where the parent exists but takes no directory (/proc), as Node\'s recursive mkdir does not', async () => {
    await expect(makeDirectories(`/proc/cimops-test-${process.pid}/set`)).rejects.toMatchObject({syscall: 'mkdir', path: `/proc/cimops-test-${process.pid}`})
  })
})

import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {writeFileAtomic, writeUserFile} from '../../../src/lib/core/atomic-write.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cimops-write-'))
})
afterEach(() => rm(dir, {recursive: true, force: true}))

describe('files the user names', () => {
  it('are written atomically into a directory that exists, leaving no temp file', async () => {
    await writeUserFile(join(dir, 'out.prom'), 'a 1\n', '--textfile')
    expect(await readFile(join(dir, 'out.prom'), 'utf8')).toBe('a 1\n')
    expect(await readdir(dir)).toEqual(['out.prom'])
  })

  it('refuse a directory that does not exist or is a file, as usage errors naming it, creating nothing', async () => {
    await expect(writeUserFile(join(dir, 'typo', 'out.prom'), 'x', '--textfile')).rejects.toMatchObject({exit: 64, why: `directory ${join(dir, 'typo')} does not exist`})
    await writeFile(join(dir, 'file'), '')
    await expect(writeUserFile(join(dir, 'file', 'out.md'), 'x', '--out')).rejects.toMatchObject({exit: 64, what: `cannot write --out ${join(dir, 'file', 'out.md')}`, why: `${join(dir, 'file')} is not a directory`})
    expect(await readdir(dir)).toEqual(['file'])
  })

  it('a directory that takes no file is said of the file named, not of the temporary one beside it (exit 2)', async () => {
    await expect(writeUserFile('/proc/cimops-out.prom', 'x', '--textfile')).rejects.toMatchObject({exit: 2, what: 'cannot write --textfile /proc/cimops-out.prom', hint: expect.any(String)})
  })

  it('unlike cimops\'s own files, whose directories are created', async () => {
    await writeFileAtomic(join(dir, 'state', 'sandbox.json'), '{}')
    expect(await readFile(join(dir, 'state', 'sandbox.json'), 'utf8')).toBe('{}')
  })
})

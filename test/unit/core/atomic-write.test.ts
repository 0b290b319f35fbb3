import {execFileSync} from 'node:child_process'
import {lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {checkUserFile, writeFileAtomic, writeUserFile} from '../../../src/lib/core/atomic-write.js'

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

  // A rename replaces whatever the path holds: as root, `--to-file /dev/full` once turned the device into a regular file.
  it('refuse a path that holds no regular file (a pipe, a directory, a device), leaving it as it was', async () => {
    const pipe = join(dir, 'pipe')
    execFileSync('mkfifo', [pipe])
    await expect(writeUserFile(pipe, 'x', '--out')).rejects.toMatchObject({exit: 64, what: `cannot write --out ${pipe}`, why: expect.stringMatching(/^it is a pipe, not a regular file: /)})
    expect((await lstat(pipe)).isFIFO()).toBe(true)
    await mkdir(join(dir, 'sub'))
    await expect(writeUserFile(join(dir, 'sub'), 'x', '--out')).rejects.toMatchObject({exit: 64, why: expect.stringMatching(/^it is a directory, /)})
    await expect(checkUserFile('/dev/null', '--to-file')).rejects.toMatchObject({exit: 64, why: expect.stringMatching(/^it is a character device, /)})
    expect((await readdir(dir)).sort()).toEqual(['pipe', 'sub'])
  })

  it('follow a symbolic link to a regular file, which keeps pointing at the new content; refuse one to nothing', async () => {
    await mkdir(join(dir, 'real'))
    await writeFile(join(dir, 'real', 'out.prom'), 'old\n')
    await symlink(join(dir, 'real', 'out.prom'), join(dir, 'link.prom'))
    await writeUserFile(join(dir, 'link.prom'), 'new\n', '--textfile')
    expect((await lstat(join(dir, 'link.prom'))).isSymbolicLink()).toBe(true)
    expect(await readFile(join(dir, 'real', 'out.prom'), 'utf8')).toBe('new\n')
    expect(await readdir(join(dir, 'real'))).toEqual(['out.prom'])
    await symlink(join(dir, 'gone'), join(dir, 'dangling'))
    await expect(writeUserFile(join(dir, 'dangling'), 'x', '--out')).rejects.toMatchObject({exit: 64, why: 'it is a symbolic link to nothing'})
  })

  it('unlike cimops\'s own files, whose directories are created', async () => {
    await writeFileAtomic(join(dir, 'state', 'sandbox.json'), '{}')
    expect(await readFile(join(dir, 'state', 'sandbox.json'), 'utf8')).toBe('{}')
  })
})

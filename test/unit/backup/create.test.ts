import {mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {moveIntoPlace} from '../../../src/lib/backup/create.js'

describe('a complete set moving into place', () => {
  let root = ''
  afterEach(async () => {
    if (root) await rm(root, {recursive: true, force: true})
  })

  it('takes the next free -N name when another backup took its name meanwhile, and says so', async () => {
    root = await mkdtemp(join(tmpdir(), 'cimops-sets-'))
    const dir = join(root, '20261205T210000Z')
    for (const taken of [dir, `${dir}-1`]) {
      await mkdir(taken)
      await writeFile(join(taken, 'manifest.json'), '{}')
    }
    await mkdir(`${dir}.partial`)
    await writeFile(join(`${dir}.partial`, 'manifest.json'), '{"ours":true}')
    const log: string[] = []
    expect(await moveIntoPlace(`${dir}.partial`, dir, (line) => log.push(line))).toBe(`${dir}-2`)
    expect(log).toEqual([`${dir} was created by someone else while this backup ran: this set is ${dir}-2`])
    expect((await readdir(root)).sort()).toEqual(['20261205T210000Z', '20261205T210000Z-1', '20261205T210000Z-2'])
  })

  it('takes its own name when it is free, quietly', async () => {
    root = await mkdtemp(join(tmpdir(), 'cimops-sets-'))
    const dir = join(root, 'nightly')
    await mkdir(`${dir}.partial`)
    const log: string[] = []
    expect(await moveIntoPlace(`${dir}.partial`, dir, (line) => log.push(line))).toBe(dir)
    expect(log).toEqual([])
  })
})

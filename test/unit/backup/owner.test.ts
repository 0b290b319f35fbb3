import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {hostname} from 'node:os'
import {describe, expect, it} from 'vitest'

import {currentOwner, ownerState, parseOwner} from '../../../src/lib/backup/owner.js'

describe('owner records', () => {
  it('this process is alive; a process that exited is dead; a reused pid is dead; another host cannot be judged', async () => {
    const me = currentOwner()
    expect(me).toMatchObject({pid: process.pid, host: hostname()})
    expect(ownerState(me)).toBe('alive')

    const child = spawn(process.execPath, ['-e', ''], {stdio: 'ignore'})
    await once(child, 'exit')
    expect(ownerState({pid: child.pid!, host: hostname()})).toBe('dead')

    if (me.startTicks) expect(ownerState({...me, startTicks: String(Number(me.startTicks) + 1)})).toBe('dead')
    expect(ownerState({...me, host: `${hostname()}-elsewhere`})).toBe('elsewhere')
  })

  it('reads back what was written, and markers of older cimops versions (pid only)', () => {
    const me = currentOwner()
    expect(parseOwner(JSON.parse(JSON.stringify({...me, startedAt: 'x', mode: 'snapshot'})))).toEqual(me)
    expect(parseOwner({pid: 12, startedAt: 'x'})).toEqual({pid: 12, host: hostname()})
    expect(parseOwner({pid: 'x'})).toBeUndefined()
    expect(parseOwner(null)).toBeUndefined()
  })
})

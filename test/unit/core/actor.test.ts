import {hostname} from 'node:os'
import {describe, expect, it} from 'vitest'

import {actorName, osUser, resolveActor} from '../../../src/lib/core/actor.js'

describe('who acts', () => {
  it('--actor, trimmed, or the OS user when absent or blank; always on this host', () => {
    expect(resolveActor(' alice ')).toEqual({user: 'alice', host: hostname()})
    expect(resolveActor()).toEqual({user: osUser(), host: hostname()})
    expect(resolveActor('  ')).toEqual({user: osUser(), host: hostname()})
    expect(osUser()).not.toBe('')
  })

  it('names an actor as user@host, and a name already recorded as is', () => {
    expect(actorName({user: 'alice', host: 'ops-1'})).toBe('alice@ops-1')
    expect(actorName('bob@ops-2')).toBe('bob@ops-2')
  })
})

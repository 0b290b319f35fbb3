import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'

import {ContentDigest, subjectDifferences} from '../../../src/lib/backup/digest.js'

describe('content digest', () => {
  it('is sha256 over length-prefixed subject and data, in order', () => {
    const digest = new ContentDigest()
    digest.update('a.b', Buffer.from('hello'), 7)
    digest.update('a.c', Buffer.from(''), 9)
    const expected = createHash('sha256')
      .update(Buffer.from([0, 0, 0, 3]))
      .update('a.b')
      .update(Buffer.from([0, 0, 0, 5]))
      .update('hello')
      .update(Buffer.from([0, 0, 0, 3]))
      .update('a.c')
      .update(Buffer.from([0, 0, 0, 0]))
      .digest('hex')
    const summary = digest.summary()
    expect(summary).toMatchObject({messages: 2, firstSeq: 7, lastSeq: 9, digest: expected})
    expect([...summary.subjects]).toEqual([['a.b', 1], ['a.c', 1]])
  })

  it('tells apart messages that plain concatenation would confuse', () => {
    const one = new ContentDigest()
    one.update('a.b', Buffer.from('cd'))
    const two = new ContentDigest()
    two.update('a.bc', Buffer.from('d'))
    expect(one.summary().digest).not.toBe(two.summary().digest)
  })

  it('changes when one message is missing or reordered', () => {
    const messages = ['x.1', 'x.2', 'x.3'].map((subject, i) => [subject, Buffer.from(String(i))] as const)
    const all = new ContentDigest()
    for (const [s, d] of messages) all.update(s, d)
    const missing = new ContentDigest()
    for (const [s, d] of messages.slice(1)) missing.update(s, d)
    const reordered = new ContentDigest()
    for (const [s, d] of [...messages].reverse()) reordered.update(s, d)
    expect(new Set([all.summary().digest, missing.summary().digest, reordered.summary().digest]).size).toBe(3)
  })

  it('lists subjects whose counts differ, biggest difference first', () => {
    const source = new Map([['a', 3], ['b', 1], ['c', 2]])
    const restored = new Map([['a', 2], ['c', 2], ['d', 4]])
    expect(subjectDifferences(source, restored)).toEqual([
      {subject: 'd', source: 0, restored: 4},
      {subject: 'a', source: 3, restored: 2},
      {subject: 'b', source: 1, restored: 0},
    ])
  })
})

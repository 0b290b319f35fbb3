import {describe, expect, it} from 'vitest'

import {lastCommonSeq, resyncSteps} from '../../../src/lib/dr/resync.js'

describe('lastCommonSeq: the end of the common prefix, by binary search', () => {
  const upTo = (n: number) => async (seq: number) => seq <= n
  it('finds where two streams diverge in a few reads', async () => {
    let reads = 0
    const same = async (seq: number) => (reads++, seq <= 737)
    expect(await lastCommonSeq(1, 10_000, same)).toBe(737)
    expect(reads).toBeLessThanOrEqual(14)
  })
  it('all common, none common, empty range', async () => {
    expect(await lastCommonSeq(1, 500, upTo(500))).toBe(500)
    expect(await lastCommonSeq(1, 500, upTo(0))).toBe(0)
    expect(await lastCommonSeq(5, 4, upTo(10))).toBe(4)
  })
})

describe('resyncSteps: exact commands for these contexts and streams', () => {
  const base = {
    stream: 'EVENTS',
    oldContext: 'prod',
    fromContext: 'prod-dr',
    promotedStream: 'EVENTS_DR',
    newPrimaryDomain: 'dr',
    oldServer: 'nats://n1:4222',
    oldSite: {fenced: true, subjects: ['cim.>']},
    exportFile: 'EVENTS-only-at-prod.jsonl.gz',
    replicas: 3,
  }
  it('a fenced old site with nothing of its own: back up, delete, re-create as a mirror through the new domain, wait, fail back later', () => {
    const steps = resyncSteps(base)
    expect(steps.map((s) => s.command)).toEqual([
      'cimops backup create --context prod --stream EVENTS',
      'nats --server nats://n1:4222 stream rm EVENTS -f',
      `echo '{"name":"EVENTS","storage":"file","num_replicas":3,"mirror":{"name":"EVENTS_DR","external":{"api":"$JS.dr.API"}}}' > EVENTS-mirror.json && nats --server nats://n1:4222 stream add --config EVENTS-mirror.json`,
      'cimops stream info EVENTS --context prod && cimops stream info EVENTS_DR --context prod-dr',
      'cimops dr promote EVENTS --context prod --dry-run',
    ])
  })
  it('an unfenced old site is fenced first; events only it holds are exported before anything is deleted, and offered for review after', () => {
    const steps = resyncSteps({...base, oldSite: {fenced: false, subjects: ['cim.>']}, onlyAtOldSite: {fromSeq: 438, toSeq: 442, events: 5}})
    expect(steps[0]?.command).toBe("nats --server nats://n1:4222 stream edit EVENTS --subjects 'cimops.fenced.EVENTS.>' -f")
    expect(steps[1]).toMatchObject({command: 'cimops replay --context prod --stream EVENTS --from-seq 438 --to-file EVENTS-only-at-prod.jsonl.gz'})
    expect(steps[1]?.done).toBeUndefined()
    const deleteAt = steps.findIndex((s) => s.command?.includes('stream rm'))
    expect(deleteAt).toBeGreaterThan(1)
    expect(steps.at(-2)?.command).toBe('cimops replay --context prod-dr --from-file EVENTS-only-at-prod.jsonl.gz --to-stream EVENTS_DR --dry-run')
  })
  it('a checked export is marked done', () => {
    const steps = resyncSteps({...base, onlyAtOldSite: {fromSeq: 438, toSeq: 442, events: 5}, exported: {file: 'x.jsonl', events: 5}})
    expect(steps.find((s) => s.command?.includes('--to-file'))?.done).toBe(true)
  })
})

import {describe, expect, it} from 'vitest'

import {createProgressRenderer, progressLine, progressMode} from '../../../src/lib/backup/progress.js'

const MiB = 1024 * 1024

describe('progress on stderr', () => {
  it('says bytes, rate and, when the total is known, the ETA', () => {
    expect(progressLine({phase: 'restore', item: 'EVENTS', index: 1, items: 3, bytes: 50 * MiB, totalBytes: 200 * MiB}, 2)).toBe(
      'restore EVENTS (1/3): 50.0 MiB of 200.0 MiB at 25.0 MiB/s, ETA 6.0s',
    )
    // Snapshots are compressed on the fly: no total, no ETA.
    expect(progressLine({phase: 'backup', item: 'EVENTS', index: 1, items: 1, bytes: 10 * MiB}, 4)).toBe('backup EVENTS: 10.0 MiB at 2.5 MiB/s')
    expect(progressLine({phase: 'backup', item: 'CACHE', index: 2, items: 2, bytes: MiB, messages: 1000, totalMessages: 4000}, 1)).toBe(
      'backup CACHE (2/2): 1.0 MiB at 1.0 MiB/s, 1,000/4,000 messages, ETA 3.0s',
    )
  })

  it('picks the mode: nothing with --json or --quiet, a live line on a terminal, plain lines otherwise', () => {
    expect(progressMode({json: true, quiet: false, stderrIsTTY: true})).toBe('quiet')
    expect(progressMode({json: false, quiet: true, stderrIsTTY: true})).toBe('quiet')
    expect(progressMode({json: false, quiet: false, stderrIsTTY: true})).toBe('live')
    expect(progressMode({json: false, quiet: false, stderrIsTTY: false})).toBe('lines')
  })

  it('plain mode writes one line every interval, never more', () => {
    let now = 0
    const out: string[] = []
    const renderer = createProgressRenderer({mode: 'lines', write: (text) => out.push(text), intervalMs: 3000, now: () => now})
    for (now = 0; now <= 10_000; now += 100) renderer.update({phase: 'backup', item: 'EVENTS', index: 1, items: 1, bytes: now * 1000})
    renderer.done()
    expect(out).toHaveLength(3)
    expect(out.every((line) => line.endsWith('\n') && line.startsWith('backup EVENTS: '))).toBe(true)
  })

  it('tty mode redraws one line in place and clears it when done', () => {
    let now = 0
    const out: string[] = []
    const renderer = createProgressRenderer({mode: 'live', write: (text) => out.push(text), now: () => now})
    for (now = 100; now <= 1000; now += 50) renderer.update({phase: 'restore', item: 'EVENTS', index: 1, items: 1, bytes: now, totalBytes: 2000})
    renderer.done()
    expect(out.length).toBeGreaterThan(5)
    expect(out.slice(0, -1).every((text) => text.startsWith('\r\u001B[2K') && !text.includes('\n'))).toBe(true)
    expect(out.at(-1)).toBe('\r\u001B[2K')
  })

  it('off mode writes nothing', () => {
    const out: string[] = []
    const renderer = createProgressRenderer({mode: 'quiet', write: (text) => out.push(text)})
    renderer.update({phase: 'backup', item: 'X', index: 1, items: 1, bytes: 1})
    renderer.done()
    expect(out).toEqual([])
  })
})

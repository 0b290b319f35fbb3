import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {progressLine, renderProfile, sparkline} from '../../../src/lib/profile/render.js'
import type {ProfileReport, ProfileSample} from '../../../src/lib/profile/service.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const MiB = 1024 * 1024

function samples(count: number, fds: number | null = 40): ProfileSample[] {
  return Array.from({length: count}, (_, i) => ({at: new Date(Date.UTC(2026, 0, 1, 3, 0, i * 5)).toISOString(), rssBytes: 100 * MiB + i * MiB, cpuPercent: 2.5 + (i % 3), fds}))
}

function report(overrides: Partial<ProfileReport> = {}): ProfileReport {
  return {
    target: {pid: 4242, name: 'cim-projector', cmdline: '/usr/bin/node /srv/cim/projector.js', foundBy: 'systemd', service: 'cim-projector'},
    status: 'WARNING',
    verdict: 'growing',
    summary: 'grows steadily; no drop in the window shows whether a collection would free it',
    growth: {bytesPerHour: 720 * MiB, r2: 0.998, confidence: 1},
    samples: samples(61),
    durationMs: 300_000,
    intervalMs: 5000,
    partial: false,
    notes: [],
    ...overrides,
  }
}

describe('sparkline', () => {
  it('draws one bar per value, lowest to highest', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 20)).toBe('▁▂▃▄▅▆▇█')
  })

  it('averages into the width it is given', () => {
    expect(sparkline([1, 1, 8, 8], 2)).toBe('▁█')
    expect(sparkline(Array.from({length: 600}, (_, i) => i), 60)).toHaveLength(60)
  })

  it('a flat series is a flat line, nothing an empty one', () => {
    expect(sparkline([5, 5, 5], 10)).toBe('▁▁▁')
    expect(sparkline([], 10)).toBe('')
  })
})

describe('renderProfile', () => {
  it('names the process and how it was found, the series, the verdict with its growth', () => {
    const text = renderProfile(report(), {style})
    expect(text).toContain('Process 4242 cim-projector (main process of systemd unit cim-projector): 61 samples over 5m, every 5.0s')
    expect(text).toMatch(/RSS\s+100\.0 MiB\s+160\.0 MiB\s+100\.0 MiB\s+160\.0 MiB/)
    expect(text).toMatch(/FDS\s+40\s+40\s+40\s+40/)
    expect(text).toContain('GROWING: +720.0 MiB/h (r² 1.00, confidence 100%); grows steadily')
    expect(text).not.toContain('CHART')
  })

  it('a partial profile says why it ended and what the verdict covers; notes follow', () => {
    const text = renderProfile(
      report({samples: samples(7, null), partial: true, reason: 'process 4242 exited after 1.4s', notes: ['open file descriptors not counted: permission denied']}),
      {style},
    )
    expect(text).toContain('PARTIAL: process 4242 exited after 1.4s; the verdict covers 7 samples only')
    expect(text).toContain('note: open file descriptors not counted')
    expect(text).not.toMatch(/^FDS/m)
  })

  it('a stable verdict gives no growth rate; no samples, no table', () => {
    expect(renderProfile(report({verdict: 'stable', status: 'OK', summary: 'no lasting growth'}), {style})).toContain('STABLE: no lasting growth')
    const empty = renderProfile(report({samples: [], verdict: 'unknown', status: 'UNKNOWN', summary: '0 samples', growth: null, partial: true, reason: 'interrupted after 10ms'}), {style})
    expect(empty).not.toContain('SERIES')
    expect(empty).toContain('UNKNOWN: 0 samples')
  })

  it('a NATS client: its connection in the title, the bytes the server holds for it as a series', () => {
    const nats = report({
      target: {pid: 4242, name: 'node', cmdline: 'node projector.js', foundBy: 'nats-client', natsClient: {name: 'cim-projector', cid: 17, monitorUrl: 'http://127.0.0.1:8222'}},
      samples: samples(5).map((s, i) => ({...s, nats: i === 2 ? null : {pendingBytes: i * 1024}})),
    })
    const text = renderProfile(nats, {style})
    expect(text).toContain('Process 4242 node (NATS client cim-projector, connection 17): 5 samples')
    expect(text).toMatch(/^NATS PENDING\s+0 B\s+4\.0 KiB\s+0 B\s+4\.0 KiB$/m)
    expectFits((w) => renderProfile(nats, {style, width: w, chart: true}), 80, [['RSS'], ['NATS PENDING']])
  })

  it.each(WIDTHS)('with charts, fits %i columns', (width) => {
    const text = expectFits((w) => renderProfile(report(), {style, width: w, chart: true}), width, [['RSS'], ['CPU'], ['FDS']])
    expect(text).toContain('CHART')
    expect(text).toMatch(/RSS .*▁.*█/)
  })
})

describe('progressLine', () => {
  it('the count, the time so far and the last sample', () => {
    const all = samples(3)
    expect(progressLine(all[2], all)).toBe('3 samples, 10s: RSS 102.0 MiB, CPU 4.5%, 40 fds')
    expect(progressLine(all[0], all.slice(0, 1))).toBe('1 sample: RSS 100.0 MiB, CPU 2.5%, 40 fds')
  })
})

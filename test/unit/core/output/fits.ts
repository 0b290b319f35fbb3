/** The house rules for a table, checked on a command's real rendering at a given width (see output/table.ts). */
import {expect} from 'vitest'

import {visibleLength} from '../../../../src/lib/core/output/table.js'

export const WIDTHS = [80, 120, 200] as const

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replaceAll(/\u001B\[[0-9;]*m/g, '')
const escape = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)

/**
 * `render(width)` at `width`: every row's key values stand whole, in order, on one line (so no two rows
 * read alike), and no line is wider than the width unless even the narrowest layout (every column
 * that may give way at its floor, as at width 1) is wider; then no line is wider than that layout.
 */
export function expectFits(render: (width: number | undefined) => string, width: number, keys: string[][]): string {
  const text = plain(render(width))
  const narrowest = Math.max(...plain(render(1)).split('\n').map(visibleLength))
  const limit = Math.max(width, narrowest)
  for (const line of text.split('\n')) expect(visibleLength(line), `line wider than ${limit}: ${line}`).toBeLessThanOrEqual(limit)
  const lines = text.split('\n')
  for (const row of keys) {
    const pattern = new RegExp(row.map((key) => `(?<![\\w-])${escape(key)}(?![\\w-])`).join('.*'))
    expect(lines.some((line) => pattern.test(line)), `no line holds ${row.join(' … ')} whole:\n${text}`).toBe(true)
  }
  return text
}


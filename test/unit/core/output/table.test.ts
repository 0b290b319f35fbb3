import {describe, expect, it} from 'vitest'

import {renderTable, visibleLength, wrapText, type Column} from '../../../../src/lib/core/output/table.js'

interface Row {
  name: string
  stream: string
  pending: number
  note: string
}
const ROWS: Row[] = [
  {name: 'workflow-analytics-projection-eu-west-1', stream: 'EVENTS', pending: 12_345, note: 'behind by 94s since the last deploy of the analytics service'},
  {name: 'workflow-analytics-projection-eu-west-2', stream: 'EVENTS', pending: 0, note: 'ok'},
]
const COLUMNS: Array<Column<Row>> = [
  {header: 'CONSUMER', get: (r) => r.name, key: true},
  {header: 'STREAM', get: (r) => r.stream, giveWay: 2},
  {header: 'PENDING', get: (r) => String(r.pending), align: 'right'},
  {header: 'NOTE', get: (r) => r.note, wrap: true, giveWay: 1},
]
const lines = (text: string) => text.split('\n')

describe('renderTable fits the width by the house rules', () => {
  it.each([80, 120, 200])('at %d columns: the key column is whole, numbers are whole, no line is wider', (width) => {
    const text = renderTable(ROWS, COLUMNS, {width})
    for (const row of ROWS) {
      expect(text).toContain(row.name)
      expect(text).toContain(String(row.pending))
    }
    for (const line of lines(text)) expect(visibleLength(line)).toBeLessThanOrEqual(width)
    // Free text is never cut, only wrapped.
    expect(lines(text).join(' ').replaceAll(/\s+/g, ' ')).toContain('since the last deploy of the analytics service')
    expect(text).not.toContain('…')
  })

  it('the lowest give-way tier goes first: at 80 the note wraps while the stream column stays whole', () => {
    const text = renderTable(ROWS, COLUMNS, {width: 80})
    expect(lines(text).length).toBeGreaterThan(ROWS.length + 1)
    expect(lines(text)[1]).toContain('EVENTS')
  })

  it('at 200 nothing changes: one line per row', () => {
    expect(lines(renderTable(ROWS, COLUMNS, {width: 200}))).toHaveLength(3)
  })

  it('without a width nothing is shortened or wrapped', () => {
    const text = renderTable(ROWS, COLUMNS)
    expect(lines(text)).toHaveLength(3)
    expect(text).toContain(ROWS[0].note)
  })

  it('when even the give-way columns at their floor do not fit, the key column still stays whole (the line overflows)', () => {
    const text = renderTable(ROWS, COLUMNS, {width: 40})
    expect(text).toContain(ROWS[0].name)
    expect(text).toContain(ROWS[1].name)
  })

  it('a truncating column ends in an ellipsis; with nothing declared the last text column gives way', () => {
    const plain: Array<Column<Row>> = [
      {header: 'NAME', get: (r) => r.name},
      {header: 'NOTE', get: (r) => r.note},
    ]
    const text = renderTable(ROWS, plain, {width: 60})
    expect(lines(text)[1]).toMatch(/…$/)
    expect(lines(text)[1]).toContain(ROWS[0].name)
    for (const line of lines(text)) expect(visibleLength(line)).toBeLessThanOrEqual(60)
  })

  it('paint colours every line of a wrapped cell without breaking alignment', () => {
    const painted = COLUMNS.map((column) => (column.header === 'NOTE' ? {...column, paint: (t: string) => `\u001B[2m${t}\u001B[22m`} : column))
    const text = renderTable(ROWS, painted, {width: 80})
    const wrapped = lines(text).slice(1, -1)
    expect(wrapped.every((line) => line.includes('\u001B[2m'))).toBe(true)
    expect(new Set(lines(text).map((line) => line.indexOf('\u001B[2m')).filter((i) => i > 0)).size).toBe(1)
  })
})

describe('detail lines', () => {
  it('a wrapped column that would be narrower than it reads leaves the table for a line under its row', () => {
    const wide: Array<Column<Row>> = [
      {header: 'CONSUMER', get: (r) => r.name, key: true},
      {header: 'STREAM', get: (r) => r.stream},
      {header: 'PENDING', get: (r) => String(r.pending), align: 'right'},
      {header: 'NOTE', get: (r) => r.note, wrap: true, giveWay: 1, paint: (t) => `<${t}>`},
    ]
    const text = renderTable(ROWS, wide, {width: 70})
    expect(lines(text)[0]).toBe('CONSUMER                                 STREAM  PENDING')
    expect(lines(text)[2]).toBe('  note: <behind by 94s since the last deploy of the analytics service>')
    expect(lines(text)[4]).toBe('  note: <ok>')
    expect(renderTable(ROWS, wide, {width: 200})).not.toContain('  note:')
  })
})

describe('columns left out', () => {
  it('where giving way is not enough, hideable columns leave the table, lowest first, and a line says which', () => {
    const columns: Array<Column<Row>> = [
      {header: 'CONSUMER', get: (r) => r.name, key: true},
      {header: 'STREAM', get: (r) => r.stream, hide: 2},
      {header: 'PENDING', get: (r) => String(r.pending), align: 'right'},
      {header: 'WAITING', get: () => '0', align: 'right', hide: 1},
    ]
    const narrow = lines(renderTable(ROWS, columns, {width: 60}))
    expect(narrow[0]).toBe('CONSUMER                                 STREAM  PENDING')
    expect(narrow.at(-1)).toBe('(left out at 60 columns: WAITING; --json has them)')
    expect(lines(renderTable(ROWS, columns, {width: 52}))[0]).toBe('CONSUMER                                 PENDING')
    expect(renderTable(ROWS, columns, {width: 80})).not.toContain('left out')
    expect(renderTable(ROWS, columns)).not.toContain('left out')
  })

  it('a width of 0 (a pty that reports no columns) is no width: the whole table, nothing left out', () => {
    const columns: Array<Column<Row>> = [...COLUMNS, {header: 'WAITING', get: () => '0', align: 'right', hide: 1}]
    expect(renderTable(ROWS, columns, {width: 0})).toBe(renderTable(ROWS, columns))
  })
})

describe('wrapText', () => {
  it('breaks at spaces, and splits a word longer than the width', () => {
    expect(wrapText('the quick brown fox', 9)).toEqual(['the quick', 'brown fox'])
    expect(wrapText('workflow-analytics-projection', 10)).toEqual(['workflow-', 'analytics-', 'projection'])
    expect(wrapText('abcdefghijklmnop', 10)).toEqual(['abcdefghij', 'klmnop'])
    expect(wrapText('short', 10)).toEqual(['short'])
  })
})

describe('maxWidth', () => {
  const capped = COLUMNS.map((column) => (column.header === 'NOTE' ? {...column, maxWidth: 20} : column))

  it('keeps a wrapped column narrow on a terminal even when the whole line would fit', () => {
    const text = renderTable(ROWS, capped, {width: 200})
    expect(lines(text).length).toBeGreaterThan(ROWS.length + 1)
    const noteStart = lines(text)[0].indexOf('NOTE')
    for (const line of lines(text)) expect(visibleLength(line.slice(noteStart))).toBeLessThanOrEqual(20)
    expect(lines(text).join(' ').replaceAll(/\s+/g, ' ')).toContain('behind by 94s')
  })

  it('without a width the column stays on one line', () => {
    expect(lines(renderTable(ROWS, capped))).toHaveLength(3)
  })
})

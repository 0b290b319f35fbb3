/** Plain aligned tables that fit the terminal: the widest flexible column is shortened with an ellipsis. */

export interface Column<Row> {
  header: string
  get: (row: Row) => string
  /** Right-align (numbers). */
  align?: 'left' | 'right'
  /** May be shortened to fit the width; by default the last column is. */
  flexible?: boolean
  /** Adds colour after layout, so ANSI codes never break alignment. */
  paint?: (text: string, row: Row) => string
}

export interface TableOptions {
  /** Terminal width; undefined means no limit (not a TTY). */
  width?: number
  /** Header decoration, e.g. bold or dim. */
  paintHeader?: (text: string) => string
  gap?: number
}

const ELLIPSIS = '…'

export function renderTable<Row>(rows: Row[], columns: Array<Column<Row>>, options: TableOptions = {}): string {
  const gap = options.gap ?? 2
  const cells = rows.map((row) => columns.map((column) => oneLine(column.get(row))))
  const widths = columns.map((column, i) => Math.max(visibleLength(column.header), ...cells.map((line) => visibleLength(line[i]))))
  fitWidths(widths, columns, gap, options.width)

  const pad = (text: string, i: number) => {
    const fitted = truncate(text, widths[i])
    const fill = ' '.repeat(Math.max(0, widths[i] - visibleLength(fitted)))
    return columns[i].align === 'right' ? fill + fitted : fitted + fill
  }
  const join = (parts: string[]) => parts.join(' '.repeat(gap)).trimEnd()
  const header = join(columns.map((column, i) => (options.paintHeader ?? ((t: string) => t))(pad(column.header, i))))
  const body = cells.map((line, r) =>
    join(
      line.map((text, i) => {
        const padded = pad(text, i)
        const paint = columns[i].paint
        if (!paint) return padded
        const trimmed = padded.trimEnd()
        return paint(trimmed, rows[r]) + padded.slice(trimmed.length)
      }),
    ),
  )
  return [header, ...body].join('\n')
}

function fitWidths<Row>(widths: number[], columns: Array<Column<Row>>, gap: number, width?: number): void {
  if (!width) return
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1)
  const flexible = columns.map((c, i) => (c.flexible ? i : -1)).filter((i) => i >= 0)
  const candidates = flexible.length > 0 ? flexible : [columns.length - 1]
  while (total() > width) {
    const widest = candidates.reduce((best, i) => (widths[i] > widths[best] ? i : best), candidates[0])
    const minimum = Math.min(8, visibleLength(columns[widest].header))
    if (widths[widest] <= minimum) break
    widths[widest] -= Math.min(widths[widest] - minimum, total() - width)
  }
}

function truncate(text: string, width: number): string {
  return visibleLength(text) <= width ? text : Array.from(text).slice(0, Math.max(0, width - 1)).join('') + ELLIPSIS
}

function oneLine(text: string): string {
  return text.replaceAll(/\s*\n\s*/g, ' ')
}

export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return Array.from(text.replaceAll(/\u001B\[[0-9;]*m/g, '')).length
}

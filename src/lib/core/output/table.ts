/**
 * Plain aligned tables that fit the terminal. The house rules (README, "Output conventions"):
 * - a key column (the name of the thing a row is about) is never shortened: two rows must never read
 *   alike because their names were cut;
 * - other columns give way in a declared order (`giveWay`: lower first; `flexible` is the first tier),
 *   numbers (right-aligned) never do;
 * - free text (`wrap`) wraps onto more lines inside its column instead of losing its end, and where
 *   the column would be too narrow to read, moves to a detail line under its row;
 * - without a width (not a terminal, no COLUMNS) nothing is shortened.
 */

export interface Column<Row> {
  header: string
  get: (row: Row) => string
  /** Right-align (numbers). Such a column is never shortened unless it declares `giveWay`. */
  align?: 'left' | 'right'
  /** The thing the row is about (a stream, a consumer, an alert): never shortened. */
  key?: boolean
  /** Shortened first to fit the width (the first give-way tier). */
  flexible?: boolean
  /** The order in which columns give way to fit the width: lower first (flexible is -1). */
  giveWay?: number
  /** Shortened by wrapping onto more lines inside the column, not with an ellipsis. */
  wrap?: boolean
  /**
   * May be left out at a width where the table does not fit even with every other column given way
   * (lower first); a line under the table names what was left out.
   */
  hide?: number
  /** A wrapped column is never wider than this when there is a width: a long list reads better as a block than as one 100-character line. */
  maxWidth?: number
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
/** A wrapped column keeps room for a short word per line. */
const MIN_WRAP_WIDTH = 12
/** A shortened column keeps this much (or its header, if shorter) before the ellipsis. */
const MIN_TRUNCATED_WIDTH = 8

export function renderTable<Row>(rows: Row[], columns: Array<Column<Row>>, given: TableOptions = {}): string {
  // A terminal that reports 0 columns (some CI ptys) gives no width to fit, not a width nothing fits in.
  const options = given.width !== undefined && given.width < 1 ? {...given, width: undefined} : given
  const gap = options.gap ?? 2
  const allCells = rows.map((row) => columns.map((column) => oneLine(column.get(row))))
  const natural = columns.map((column, i) => Math.max(visibleLength(column.header), ...allCells.map((line) => visibleLength(line[i]))))
  const {shown, widths, hidden} = layout(columns, natural, gap, options.width)
  const details = columns.map((_, i) => i).filter((i) => !shown.includes(i) && !hidden.includes(i))

  const pad = (text: string, k: number) => {
    const fill = ' '.repeat(Math.max(0, widths[k] - visibleLength(text)))
    return columns[shown[k]].align === 'right' ? fill + text : text + fill
  }
  const join = (parts: string[]) => parts.join(' '.repeat(gap)).trimEnd()
  const header = join(shown.map((i, k) => (options.paintHeader ?? ((t: string) => t))(pad(truncate(columns[i].header, widths[k]), k))))
  const body = allCells.flatMap((line, r) => {
    const fitted = shown.map((i, k) => (columns[i].wrap ? wrapText(line[i], widths[k]) : [truncate(line[i], widths[k])]))
    const height = Math.max(...fitted.map((lines) => lines.length))
    const rowLines = Array.from({length: height}, (_, n) =>
      join(
        fitted.map((lines, k) => {
          const padded = pad(lines[n] ?? '', k)
          const paint = columns[shown[k]].paint
          if (!paint || lines[n] === undefined) return padded
          const trimmed = padded.trimEnd()
          return paint(trimmed, rows[r]) + padded.slice(trimmed.length)
        }),
      ),
    )
    return [...rowLines, ...details.flatMap((i) => detailLines(columns[i], line[i], rows[r], options.width!))]
  })
  const note = hidden.length > 0 ? wrapText(`(left out at ${options.width} columns: ${hidden.map((i) => columns[i].header).join(', ')}; --json has them)`, options.width!) : []
  return [header, ...body, ...note].join('\n')
}

/** Below this a wrapped column reads as a narrow ribbon: its text moves to a detail line under the row. */
const MIN_READABLE_WRAP_WIDTH = 20
const DETAIL_INDENT = '  '

/**
 * Which columns stay in the table and how wide: fitted by give-way order; while a wrapped column ends up
 * narrower than it can be read, the earliest-giving of those leaves the table for a detail line.
 */
function layout<Row>(columns: Array<Column<Row>>, natural: number[], gap: number, width?: number): {shown: number[]; widths: number[]; hidden: number[]} {
  let shown = columns.map((_, i) => i)
  const hidden: number[] = []
  for (;;) {
    const widths = shown.map((i) => natural[i])
    fitWidths(widths, shown.map((i) => columns[i]), gap, width)
    const ribbons = shown.filter((i, k) => columns[i].wrap && widths[k] < Math.min(MIN_READABLE_WRAP_WIDTH, natural[i]))
    const order = (i: number) => (columns[i].flexible ? -1 : (columns[i].giveWay ?? 0))
    if (ribbons.length > 0) {
      const leaving = ribbons.reduce((first, i) => (order(i) < order(first) ? i : first), ribbons[0])
      shown = shown.filter((i) => i !== leaving)
      continue
    }
    const tooWide = width !== undefined && widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1) > width
    const hideable = shown.filter((i) => columns[i].hide !== undefined)
    if (!tooWide || hideable.length === 0) return {shown, widths, hidden}
    const leaving = hideable.reduce((first, i) => (columns[i].hide! < columns[first].hide! ? i : first), hideable[0])
    shown = shown.filter((i) => i !== leaving)
    hidden.push(leaving)
  }
}

/** `  summary: text…` under its row, wrapped to the width; nothing for an empty or "-" value. */
function detailLines<Row>(column: Column<Row>, text: string, row: Row, width: number): string[] {
  if (text === '' || text === '-') return []
  const label = `${DETAIL_INDENT}${column.header.toLowerCase()}: `
  const lines = wrapText(text, Math.max(MIN_READABLE_WRAP_WIDTH, width - label.length))
  const paint = column.paint ?? ((t: string) => t)
  return lines.map((line, n) => (n === 0 ? label : ' '.repeat(label.length)) + paint(line, row))
}

/** The tiers of columns that may give way, in order; the last plain text column when none is declared. */
function giveWayTiers<Row>(columns: Array<Column<Row>>): number[][] {
  const order = (column: Column<Row>) => (column.key ? undefined : column.flexible ? -1 : column.giveWay)
  const declared = columns.map((column, i) => ({i, order: order(column)})).filter((c): c is {i: number; order: number} => c.order !== undefined)
  if (declared.length === 0) {
    const fallback = columns.findLastIndex((column) => !column.key && column.align !== 'right')
    return fallback === -1 ? [] : [[fallback]]
  }
  const orders = [...new Set(declared.map((c) => c.order))].sort((a, b) => a - b)
  return orders.map((o) => declared.filter((c) => c.order === o).map((c) => c.i))
}

function fitWidths<Row>(widths: number[], columns: Array<Column<Row>>, gap: number, width?: number): void {
  if (!width) return
  columns.forEach((column, i) => {
    if (column.wrap && column.maxWidth !== undefined) widths[i] = Math.min(widths[i], Math.max(column.maxWidth, visibleLength(column.header)))
  })
  const excess = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1) - width
  const minimum = (i: number) => (columns[i].wrap ? Math.min(MIN_WRAP_WIDTH, widths[i]) : Math.min(MIN_TRUNCATED_WIDTH, visibleLength(columns[i].header), widths[i]))
  const floors = widths.map((_, i) => minimum(i))
  for (const tier of giveWayTiers(columns)) {
    // Within a tier the widest column gives first, so the tier ends up evenly shortened.
    while (excess() > 0) {
      const room = tier.filter((i) => widths[i] > floors[i])
      if (room.length === 0) break
      const widest = room.reduce((best, i) => (widths[i] > widths[best] ? i : best), room[0])
      const others = room.filter((i) => i !== widest).map((i) => widths[i])
      const target = Math.max(floors[widest], others.length > 0 ? Math.max(...others) : floors[widest], widths[widest] - excess())
      widths[widest] = target < widths[widest] ? target : widths[widest] - 1
    }
    if (excess() <= 0) return
  }
}

function truncate(text: string, width: number): string {
  return visibleLength(text) <= width ? text : Array.from(text).slice(0, Math.max(0, width - 1)).join('') + ELLIPSIS
}

/** Where a long word may break: after these, as a person would hyphenate a name or a URL. */
const BREAK_AFTER = new Set(['-', '.', '/', '=', ',', ':', '_', '@'])

/** Word-wraps to `width`; a word longer than the width is split, after a `-`, `.`, `/`, ... where one is near. */
export function wrapText(text: string, width: number): string[] {
  if (visibleLength(text) <= width) return [text]
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    let rest = word
    while (visibleLength(rest) > width) {
      if (line) lines.push(line)
      line = ''
      const chars = Array.from(rest)
      const breakAt = chars.slice(0, width).findLastIndex((char) => BREAK_AFTER.has(char))
      const cut = breakAt >= width / 3 ? breakAt + 1 : width
      lines.push(chars.slice(0, cut).join(''))
      rest = chars.slice(cut).join('')
    }
    if (!line) line = rest
    else if (visibleLength(line) + 1 + visibleLength(rest) <= width) line += ` ${rest}`
    else {
      lines.push(line)
      line = rest
    }
  }
  if (line) lines.push(line)
  return lines
}

function oneLine(text: string): string {
  return text.replaceAll(/\s*\n\s*/g, ' ')
}

export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return Array.from(text.replaceAll(/\u001B\[[0-9;]*m/g, '')).length
}

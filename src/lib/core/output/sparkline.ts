/** Unicode sparklines: a series in one line of block characters, for terminals and Markdown. */

const BARS = '▁▂▃▄▅▆▇█'
/** Where a bucket holds no value at all (a day Prometheus has no history for). */
const GAP = ' '

/**
 * The series in at most `width` bars, averaged in equal buckets; a flat series is a row of the lowest bar.
 * Missing values (null) are left out of their bucket's average; a bucket of nothing else is a gap.
 */
export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  if (values.length === 0 || width < 1) return ''
  const buckets = Math.min(width, values.length)
  const averaged = Array.from({length: buckets}, (_, i) => {
    const slice = values.slice(Math.floor((i * values.length) / buckets), Math.floor(((i + 1) * values.length) / buckets)).filter((v): v is number => v !== null)
    return slice.length === 0 ? null : slice.reduce((sum, v) => sum + v, 0) / slice.length
  })
  const known = averaged.filter((v): v is number => v !== null)
  const low = Math.min(...known)
  const span = Math.max(...known) - low
  return averaged.map((v) => (v === null ? GAP : BARS[span === 0 ? 0 : Math.round(((v - low) / span) * (BARS.length - 1))])).join('')
}

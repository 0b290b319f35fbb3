/** NATS subject algebra: which subjects a filter matches, the same rules the server applies. */

/** Every subject `a` matches is matched by `b`. */
export function subjectIsSubset(a: string, b: string): boolean {
  const x = a.split('.')
  const y = b.split('.')
  for (let i = 0; i < y.length; i++) {
    if (y[i] === '>') return i < x.length
    if (i >= x.length || x[i] === '>') return false
    if (y[i] !== '*' && (x[i] === '*' || x[i] !== y[i])) return false
  }
  return x.length === y.length
}

/** The filter matching exactly the subjects both match; undefined when none does. */
export function intersectSubjects(a: string, b: string): string | undefined {
  const x = a.split('.')
  const y = b.split('.')
  const out: string[] = []
  for (let i = 0; ; i++) {
    const p = x[i]
    const q = y[i]
    if (p === undefined && q === undefined) return out.join('.')
    if (p === '>') return q === undefined ? undefined : [...out, ...y.slice(i)].join('.')
    if (q === '>') return p === undefined ? undefined : [...out, ...x.slice(i)].join('.')
    if (p === undefined || q === undefined) return undefined
    if (p === '*') out.push(q)
    else if (q === '*' || q === p) out.push(p)
    else return undefined
  }
}

/**
 * Do two subject filters overlap, i.e. is there a subject both match? JetStream refuses a stream whose
 * subjects overlap another stream's; a restore checks this before changing anything.
 * `*` matches one token, `>` one or more trailing tokens.
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split('.')
  const y = b.split('.')
  for (let i = 0; ; i++) {
    const p = x[i]
    const q = y[i]
    if (p === undefined || q === undefined) return p === undefined && q === undefined
    if (p === '>' || q === '>') return true
    if (p !== q && p !== '*' && q !== '*') return false
  }
}

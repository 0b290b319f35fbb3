import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const SRC = fileURLToPath(new URL('../../../src', import.meta.url))
const HEAVY = /^(axios|execa|@nats-io\/.+|ink|react|systeminformation|yaml)$/
/** Static value imports (`import type` and `await import()` are fine). */
const VALUE_IMPORT = /^import\s+(?!type\s)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm

function files(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

/** Every module loaded, transitively through static imports, when `file` is loaded. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  if (!file.endsWith('.ts')) return seen
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(VALUE_IMPORT)) {
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
      staticClosure(existsSync(target) ? target : target.replace(/\.ts$/, '.tsx'), seen)
    } else {
      seen.add(spec)
    }
  }
  return seen
}

describe('alerts commands load heavy modules lazily', () => {
  it('no alerts command reaches axios, execa, nats.js, ink, react, systeminformation or yaml through static imports', () => {
    const offenders = files(join(SRC, 'commands', 'alerts')).flatMap((file) =>
      [...staticClosure(file)].filter((module) => HEAVY.test(module)).map((module) => `${relative(SRC, file)} loads ${module}`),
    )
    expect(offenders).toEqual([])
  })
})

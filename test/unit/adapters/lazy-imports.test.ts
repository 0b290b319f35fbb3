import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ADAPTERS = fileURLToPath(new URL('../../../src/lib/adapters', import.meta.url))
const HEAVY = /^(axios|execa|@nats-io\/.+)$/
/** `import x from 'm'` / `import {x} from 'm'` / `import 'm'`, but not `import type`. */
const VALUE_IMPORT = /^import\s+(?!type\s)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

describe('adapters load heavy modules lazily', () => {
  it('no adapter imports axios, execa or nats.js at module top level', () => {
    const offenders = sourceFiles(ADAPTERS).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(VALUE_IMPORT)]
        .map((match) => match[1])
        .filter((module) => HEAVY.test(module))
        .map((module) => `${relative(ADAPTERS, file)} imports ${module}`),
    )
    expect(offenders).toEqual([])
  })
})

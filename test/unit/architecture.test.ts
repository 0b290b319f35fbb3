import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('the layers of src/lib', () => {
  it('core and adapters import nothing above them, and no folder imports in a circle', () => {
    const run = spawnSync(process.execPath, ['scripts/check-imports.mjs'], {cwd: ROOT, encoding: 'utf8'})
    expect(run.stdout.trim(), run.stdout).toBe('imports: layering ok, no circles')
    expect(run.status).toBe(0)
  })
})

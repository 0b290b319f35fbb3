import {spawnSync} from 'node:child_process'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const checkImports = (root?: string) => spawnSync(process.execPath, ['scripts/check-imports.mjs', ...(root ? [root] : [])], {cwd: ROOT, encoding: 'utf8'})

describe('the layers of src/lib', () => {
  it('core and adapters import nothing above them, no folder imports in a circle, services use no CLI framework or chalk', () => {
    const run = checkImports()
    expect(run.stdout.trim(), run.stdout).toBe('imports: layering ok, no circles')
    expect(run.status).toBe(0)
  })

  it('finds a service importing @oclif/core or chalk, and src/lib importing the commands\' flags', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'cimops-layers-'))
    const files: Record<string, string> = {
      // Allowed: the command layer and the output module.
      'src/lib/core/base-command.ts': "import {Command} from '@oclif/core'\n",
      'src/lib/core/output/style.ts': "import {Chalk} from 'chalk'\n",
      'src/lib/ui/view.tsx': "import type {ChalkInstance} from 'chalk'\n",
      'src/flags/drain-timeout.ts': "import {Flags} from '@oclif/core'\nimport {parseDuration} from '../lib/core/duration.js'\n",
      'src/lib/core/duration.ts': 'export const parseDuration = 1\n',
      'src/commands/gpu/evacuate.ts': "import {Flags} from '@oclif/core'\nimport {drainTimeoutFlags} from '../../flags/drain-timeout.js'\n",
      // Not allowed.
      'src/lib/alerts/render.ts': "import {Chalk} from 'chalk'\n",
      'src/lib/gpu/flags.ts': "import type {Interfaces} from '@oclif/core'\n",
      'src/lib/streams/lazy.ts': "export const load = () => import('chalk')\n",
      'src/lib/morning/render.ts': "import {drainTimeoutFlags} from '../../flags/drain-timeout.js'\n",
    }
    try {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(tree, path)), {recursive: true})
        await writeFile(join(tree, path), text)
      }
      const run = checkImports(tree)
      expect(run.stdout.trim().split('\n')).toEqual([
        'presentation: src/lib/alerts/render.ts imports chalk',
        'presentation: src/lib/gpu/flags.ts imports @oclif/core',
        'presentation: src/lib/streams/lazy.ts imports chalk',
        'upward: src/lib/morning/render.ts -> src/flags/drain-timeout.ts',
        'imports: 4 finding(s)',
      ])
      expect(run.status).toBe(1)
    } finally {
      await rm(tree, {recursive: true, force: true})
    }
  })
})

/** Unit tests about the whole tree, not one file: the only ones without a src/lib twin. */
const CROSS_CUTTING = new Set(['architecture.test.ts', 'adapters/lazy-imports.test.ts', 'alerts/lazy-imports.test.ts', 'runbooks/shipped.test.ts', 'engines.test.ts'])

describe('the unit tests mirror src/lib', () => {
  it('a unit test file sits at the relative path of the lib file it tests', async () => {
    const {readdir} = await import('node:fs/promises')
    const {existsSync} = await import('node:fs')
    const unit = join(ROOT, 'test/unit')
    const tests = (await readdir(unit, {recursive: true})).filter((file) => /\.test\.tsx?$/.test(file))
    const strays = tests.filter((file) => {
      if (CROSS_CUTTING.has(file)) return false
      const lib = join(ROOT, 'src/lib', file.replace(/\.test\.tsx?$/, ''))
      return !existsSync(`${lib}.ts`) && !existsSync(`${lib}.tsx`)
    })
    expect(tests.length).toBeGreaterThan(50)
    expect(strays, 'move each to test/unit/<path of its src/lib file>.test.ts').toEqual([])
  })
})

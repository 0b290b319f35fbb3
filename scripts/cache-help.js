#!/usr/bin/env node
// Build step: renders the root help once, exactly as oclif prints it when stdout is not a terminal
// (80 columns, no colour), so bin/run.js can answer `cimops --help` without loading oclif.
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = {...process.env, CIMOPS_NO_HELP_CACHE: '1'}
delete env.OCLIF_COLUMNS
const result = spawnSync(process.execPath, [join(root, 'bin/run.js'), '--help'], {env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
if (result.status !== 0) {
  process.stderr.write(`cache-help: cimops --help exited ${result.status}: ${result.stderr}\n`)
  process.exit(1)
}
writeFileSync(join(root, 'dist', 'root-help.txt'), result.stdout)

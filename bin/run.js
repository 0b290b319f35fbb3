#!/usr/bin/env node
// Startup is part of the product. Without loading oclif (~100 ms here):
// - `cimops --version` prints the version from package.json;
// - `cimops --help` piped (not a terminal) prints the root help rendered at build time by scripts/cache-help.js,
//   byte for byte what oclif prints there. On a terminal, oclif renders it for the real width and colours.
// oclif's Node-engine check (which loads semver) is skipped: package.json's engines field already pins Node >= 20.
import {readFileSync} from 'node:fs'

const argv = process.argv.slice(2)
const only = argv.length === 1 ? argv[0] : undefined

function rootHelpFromCache() {
  if (process.stdout.isTTY || process.env.CIMOPS_NO_HELP_CACHE || process.env.OCLIF_COLUMNS) return undefined
  if (only !== '--help' && only !== 'help' && only !== '-h') return undefined
  try {
    return readFileSync(new URL('../dist/root-help.txt', import.meta.url), 'utf8')
  } catch {
    return undefined
  }
}

const cachedHelp = rootHelpFromCache()
if (only === '--version' || only === '-v' || only === 'version') {
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`cimops/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (cachedHelp !== undefined) {
  process.stdout.write(cachedHelp)
} else {
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  // `cimops --context prod health-check`: global flags may come first, as with kubectl and natscli.
  const {globalFlagsLast} = await import('../dist/lib/core/global-argv.js')
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url, args: globalFlagsLast(argv)})
  // The command has reported its result. Leave now rather than wait on sockets a library failed to
  // close (nats.js leaves the socket of a timed-out connect open), once stdout has been flushed.
  process.stdout.write('', () => process.exit())
}

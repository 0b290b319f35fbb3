#!/usr/bin/env node
// Bundles the CLI (issue 22, startup speed): Node spends most of a short command's life resolving, reading
// and compiling the ~1,000 files that oclif, nats.js, zod and cimops itself are made of. esbuild joins them
// into a few chunks beside the tsc output: dist/bundle/cli.js (oclif's entry, run by bin/run.js) and one file
// per command under dist/bundle/commands (oclif's manifest points there), sharing chunks so that what a
// command imports lazily is still loaded only when used.
// Left out of the bundle, and loaded from node_modules when used: packages that are large, load data files
// or are rarely needed on a command's hot path (ink, react, systeminformation, axios, execa), and what oclif
// only needs for TypeScript sources (typescript, ts-node).
// Usage: bundle.mjs [distDir] (default: this repository's dist/, which tsc has just written).
import {readdirSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist')
const out = join(dist, 'bundle')
const external = ['ink', 'react', 'react/*', 'systeminformation', 'axios', 'execa', 'typescript', 'ts-node']

const commands = readdirSync(join(dist, 'commands'), {recursive: true})
  .filter((file) => file.endsWith('.js'))
  .map((file) => join(dist, 'commands', file))

/**
 * With code splitting, esbuild turns `await import('a-commonjs-package')` into a chunk whose only export
 * is `default`, where Node would also give the names cjs-module-lexer finds. cimops' adapters destructure
 * those names (`const {connect} = await import('@nats-io/transport-node')`), so a dynamic import of a
 * CommonJS package is pointed at a small ESM facade that re-exports the package's own keys, read here by
 * loading the package once.
 */
const commonJsFacades = {
  name: 'commonjs-facades',
  setup(pluginBuild) {
    const requireFromRoot = createRequire(join(root, 'package.json'))
    pluginBuild.onResolve({filter: /^[@a-z]/}, (args) => {
      if (args.kind !== 'dynamic-import' || args.namespace === 'commonjs-facade') return undefined
      if (external.some((name) => args.path === name || args.path.startsWith(`${name}/`))) return undefined
      if (args.path.startsWith('node:')) return undefined
      let resolved
      try {
        resolved = requireFromRoot.resolve(args.path)
      } catch {
        return undefined // ESM-only: esbuild resolves it, and its chunk exports its real names
      }
      if (!isCommonJs(resolved)) return undefined
      return {path: args.path, namespace: 'commonjs-facade', pluginData: {resolved}}
    })
    pluginBuild.onLoad({filter: /.*/, namespace: 'commonjs-facade'}, (args) => {
      const names = Object.keys(requireFromRoot(args.pluginData.resolved)).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default')
      return {
        contents: `const facade = require(${JSON.stringify(args.pluginData.resolved)})\nexport default facade\nexport const {${names.join(', ')}} = facade\n`,
        loader: 'js',
        resolveDir: root,
      }
    })
  },
}

function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true
  if (file.endsWith('.mjs')) return false
  let dir = dirname(file)
  for (;;) {
    try {
      const pkg = createRequire(join(dir, 'noop.js'))(join(dir, 'package.json'))
      return pkg.type !== 'module'
    } catch {
      const up = dirname(dir)
      if (up === dir) return true
      dir = up
    }
  }
}

rmSync(out, {recursive: true, force: true})
await build({
  entryPoints: [join(dist, 'cli.js'), ...commands],
  outbase: dist,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [commonJsFacades],
  // Bundled CommonJS calls require() for Node's built-ins; ESM has none, so each chunk gets one.
  banner: {js: "import {createRequire as __cimopsCreateRequire} from 'node:module'; const require = __cimopsCreateRequire(import.meta.url);"},
  legalComments: 'none',
  logLevel: 'warning',
})

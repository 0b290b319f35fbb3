import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {describe, expect, it} from 'vitest'

// semver comes with @oclif/core; typed here for the two calls made.
const semver = createRequire(import.meta.url)('semver') as {minVersion(range: string): {version: string} | null; satisfies(version: string, range: string): boolean}
const ROOT = new URL('../../', import.meta.url)

describe('the Node.js version cimops declares', () => {
  it('is accepted by every package `npm ci` installs, so npm prints no EBADENGINE warning', async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as {engines: {node: string}}
    const lock = JSON.parse(await readFile(new URL('package-lock.json', ROOT), 'utf8')) as {packages: Record<string, {version?: string; engines?: {node?: string} | string[]}>}
    const oldest = semver.minVersion(pkg.engines.node)!.version
    expect(lock.packages[''].engines).toEqual(pkg.engines)
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !Array.isArray(entry.engines) && entry.engines?.node !== undefined && !semver.satisfies(oldest, entry.engines.node))
      .map(([path, entry]) => `${path}@${entry.version} wants node ${(entry.engines as {node: string}).node}`)
    expect(refusing, `Node ${oldest}`).toEqual([])
  })
})

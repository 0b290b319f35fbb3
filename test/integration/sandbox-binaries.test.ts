import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/lib/core/errors.js'
import {findServerBinary, installCommand, serverBinaryVersion} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

function thrownBy(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

describe('findServerBinary', () => {
  it('a bad override with an empty PATH is a ConfigError naming the override and the Debian package', () => {
    const error = thrownBy(() => findServerBinary('nats', {CIMOPS_NATS_SERVER_BIN: '/nonexistent/nats-server', PATH: ''}))
    expect(error).toBeInstanceOf(ConfigError)
    const {what, why, hint, exit} = error as ConfigError
    expect(what).toBe('nats-server is not installed')
    expect(why).toBe('CIMOPS_NATS_SERVER_BIN=/nonexistent/nats-server is not an executable file')
    expect(hint).toBe('install the Debian package nats-server, e.g. sudo bash scripts/install-servers.sh')
    expect(exit).toBe(78)
  })

  it('names prometheus-alertmanager as the package for alertmanager', () => {
    const error = thrownBy(() => findServerBinary('alertmanager', {CIMOPS_ALERTMANAGER_BIN: '/nonexistent/am', PATH: ''}))
    expect((error as ConfigError).line).toContain('install the Debian package prometheus-alertmanager')
  })

  it('an override that exists wins over PATH', () => {
    expect(findServerBinary('prometheus', {CIMOPS_PROMETHEUS_BIN: process.execPath, PATH: '/usr/bin'})).toBe(process.execPath)
  })

  it.skipIf(!existsSync('/usr/sbin/nats-server'))('with an empty PATH it still finds the Debian path', () => {
    expect(findServerBinary('nats', {PATH: ''})).toBe('/usr/sbin/nats-server')
  })
})

describe('server sets', () => {
  const cache = mkdtempSync(join(tmpdir(), 'cimops-cache-'))
  afterAll(() => rmSync(cache, {recursive: true, force: true}))
  /** A fetched set as install-servers.sh leaves it: <cache>/cimops/servers/<package>-<version>/<Debian path> and <set>.json. */
  const fetchSet = (set: string, packages: Record<string, string>, paths: Record<string, string>) => {
    const servers = join(cache, 'cimops', 'servers')
    for (const [name, version] of Object.entries(packages)) {
      const file = join(servers, `${name}-${version}`, paths[name]!)
      mkdirSync(join(file, '..'), {recursive: true})
      writeFileSync(file, '#!/bin/sh\necho "nats-server: v9.8.7"\n')
      chmodSync(file, 0o755)
    }
    writeFileSync(join(servers, `${set}.json`), JSON.stringify({suite: set, packages}))
    return servers
  }

  it('a set not fetched is a ConfigError whose hint is the command that fetches it', () => {
    const error = thrownBy(() => findServerBinary('nats', {CIMOPS_SERVERS: 'unstable', XDG_CACHE_HOME: cache, PATH: '/usr/sbin'}))
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).what).toBe('the unstable servers are not fetched')
    expect((error as ConfigError).hint).toBe(installCommand('unstable'))
    expect(installCommand('unstable')).toMatch(/^bash \/.*\/scripts\/install-servers\.sh unstable$/)
  })

  it("a fetched set's binaries come from the cache, as its record names them; an override still wins", async () => {
    const servers = fetchSet('trixie', {'nats-server': '9.8.7-1'}, {'nats-server': 'usr/sbin/nats-server'})
    const env = {CIMOPS_SERVERS: 'trixie', XDG_CACHE_HOME: cache, PATH: '/usr/sbin'}
    const path = findServerBinary('nats', env)
    expect(path).toBe(join(servers, 'nats-server-9.8.7-1', 'usr/sbin/nats-server'))
    expect(await serverBinaryVersion(path)).toBe('9.8.7')
    expect(findServerBinary('nats', {...env, CIMOPS_NATS_SERVER_BIN: process.execPath})).toBe(process.execPath)
    // The record names no Prometheus: not fetched, not silently Debian 12's.
    expect((thrownBy(() => findServerBinary('prometheus', env)) as ConfigError).why).toContain('names no prometheus')
  })

  it("the servers' own tools come from the same set: promtool from its package, amtool beside alertmanager", () => {
    const servers = fetchSet(
      'unstable',
      {'prometheus-alertmanager': '0.99.0-1', promtool: '3.99.0+ds1-1'},
      {'prometheus-alertmanager': 'usr/bin/amtool', promtool: 'usr/bin/promtool'},
    )
    const env = {CIMOPS_SERVERS: 'unstable', XDG_CACHE_HOME: cache, PATH: '/usr/bin'}
    expect(findServerBinary('amtool', env)).toBe(join(servers, 'prometheus-alertmanager-0.99.0-1', 'usr/bin/amtool'))
    expect(findServerBinary('promtool', env)).toBe(join(servers, 'promtool-3.99.0+ds1-1', 'usr/bin/promtool'))
    expect(findServerBinary('promtool', {...env, CIMOPS_PROMTOOL_BIN: process.execPath})).toBe(process.execPath)
  })

  it('an unknown set is a ConfigError naming the choices', () => {
    expect((thrownBy(() => findServerBinary('nats', {CIMOPS_SERVERS: 'sid', PATH: ''})) as ConfigError).line).toContain('must be one of debian12, trixie, unstable')
  })

  it('`sandbox up --servers` of a set not fetched exits 78 with the install command, starting nothing', async () => {
    const home = await isolatedHome()
    try {
      const up = await runCli(['sandbox', 'up', '--servers', 'unstable', '--no-monitor'], {...home.env, XDG_CACHE_HOME: join(home.dir, 'cache')})
      expect(up.code).toBe(78)
      expect(up.stderr).toContain(`the unstable servers are not fetched`)
      expect(up.stderr).toContain(installCommand('unstable'))
      expect((await runCli(['sandbox', 'status'], home.env)).code).toBe(3)
    } finally {
      await home.cleanup()
    }
  })
})

import {existsSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/lib/core/errors.js'
import {findServerBinary} from '../../src/lib/sandbox/index.js'

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

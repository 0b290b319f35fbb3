import {join} from 'node:path'

import {ConfigError} from '../core/errors.js'
import {isExecutableFile, pathDirectories} from '../core/executables.js'
import type {ServerComponent} from './types.js'

interface ServerBinary {
  /** Debian package that ships it (binary names match the package names). */
  debianPackage: string
  envOverride: string
  /** Names to look for on PATH: Debian's first, then upstream's. */
  names: string[]
  debianPath: string
}

const SERVER_BINARIES: Record<ServerComponent, ServerBinary> = {
  nats: {
    debianPackage: 'nats-server',
    envOverride: 'CIMOPS_NATS_SERVER_BIN',
    names: ['nats-server'],
    debianPath: '/usr/sbin/nats-server',
  },
  prometheus: {
    debianPackage: 'prometheus',
    envOverride: 'CIMOPS_PROMETHEUS_BIN',
    names: ['prometheus'],
    debianPath: '/usr/bin/prometheus',
  },
  alertmanager: {
    debianPackage: 'prometheus-alertmanager',
    envOverride: 'CIMOPS_ALERTMANAGER_BIN',
    names: ['prometheus-alertmanager', 'alertmanager'],
    debianPath: '/usr/bin/prometheus-alertmanager',
  },
}

/**
 * Path of the server executable for a component: the env override, else PATH, else Debian's path.
 * An override that points nowhere is an error of its own: silently using another binary would hide it.
 */
export function findServerBinary(component: ServerComponent, env: NodeJS.ProcessEnv = process.env): string {
  const binary = SERVER_BINARIES[component]
  const override = env[binary.envOverride]
  if (override) {
    if (isExecutableFile(override)) return override
    throw notInstalled(binary, `${binary.envOverride}=${override} is not an executable file`)
  }

  const pathDirs = pathDirectories(env)
  const candidates = [...pathDirs.flatMap((dir) => binary.names.map((name) => join(dir, name))), binary.debianPath]
  const found = candidates.find((candidate) => isExecutableFile(candidate))
  if (found) return found
  throw notInstalled(binary, `searched ${[...new Set(candidates)].join(', ')}`)
}

function notInstalled(binary: ServerBinary, why: string): ConfigError {
  return new ConfigError(`${binary.names[0]} is not installed`, why, {
    hint: `install the Debian package ${binary.debianPackage}, e.g. sudo bash scripts/install-servers.sh`,
  })
}

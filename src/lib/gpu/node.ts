import {hostname} from 'node:os'

import {UsageError} from '../core/errors.js'

/**
 * GPU node names are one NATS subject token and one KV key token: `cim.ops.gpu.<node>.evacuate`,
 * `cim_gpu_allocations` keys `<node>.<workload>`. So letters, digits, `-` and `_`, no dots.
 */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/

export function isValidNodeName(name: string): boolean {
  return NODE_NAME.test(name)
}

export function checkNodeName(name: string, what = 'node name'): string {
  if (!isValidNodeName(name)) {
    throw new UsageError(`invalid ${what} "${name}"`, 'expected letters, digits, "-" and "_" (one subject token: no dots, spaces or wildcards)', {
      hint: 'use the short host name, e.g. gpu-07 rather than gpu-07.dc1.example.com',
    })
  }
  return name
}

/** This host's node name: the short host name, made a valid token. */
export function defaultNodeName(host = hostname()): string {
  const short = host.split('.')[0].replaceAll(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '')
  return short === '' ? 'localhost' : short.slice(0, 128)
}


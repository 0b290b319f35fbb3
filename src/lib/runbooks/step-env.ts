/**
 * What a run adds to its steps' environment so that a nested `cimops` connects where this one does:
 * the connection flags given, as the variables core reads (core/context.ts CONNECTION_ENV), and a
 * shim directory first on PATH that runs this very cimops.
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type ConnectionFlags, connectionFlagsEnv} from '../core/context.js'
import type {ResolvedContext} from '../core/context-types.js'
import {withUrlCredentials} from '../core/nats-url.js'

export function stepConnectionEnv(flags: ConnectionFlags, noColor: boolean, env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out = connectionFlagsEnv(flags)
  // Credentials never travel inside NATS_URL, which a step may well print: natscli's own variables carry them.
  const url = out.NATS_URL ?? env.NATS_URL
  if (url) {
    const nats = withUrlCredentials({servers: url.split(',').map((server) => server.trim()).filter(Boolean)})
    out.NATS_URL = nats.servers.join(',')
    if (nats.user !== undefined) Object.assign(out, {NATS_USER: nats.user, NATS_PASSWORD: nats.password ?? ''})
    if (nats.token !== undefined) out.NATS_TOKEN = nats.token
  }
  if (noColor) out.NO_COLOR = '1'
  return out
}

/**
 * The context's addresses, as the values of runbook parameters so named: a step such as high-event-lag's
 * monitor-lag reaches the monitor, Prometheus and Alertmanager of the context the run uses, not a default port.
 */
export function contextParamValues(ctx: Pick<ResolvedContext, 'monitor' | 'prometheus' | 'alertmanager'>): Record<string, string> {
  return {...(ctx.monitor ? {MONITOR_URL: ctx.monitor.url} : {}), PROMETHEUS_URL: ctx.prometheus.url, ALERTMANAGER_URL: ctx.alertmanager.url}
}

export interface CimopsShim {
  dir: string
  remove(): Promise<void>
}

/** A directory with a `cimops` that runs this very cimops (installed at `root`), to put first on the steps' PATH. */
export async function createCimopsShim(runId: string, root: string): Promise<CimopsShim> {
  const dir = await mkdtemp(join(tmpdir(), `cimops-run-${runId}-`))
  const entry = process.argv[1] && /[/\\]bin[/\\](run|dev)\.js$/.test(process.argv[1]) ? process.argv[1] : join(root, 'bin', 'run.js')
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`
  await writeFile(join(dir, 'cimops'), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(entry)} "$@"\n`, {mode: 0o755})
  return {dir, remove: () => rm(dir, {recursive: true, force: true})}
}

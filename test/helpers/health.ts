import {expect} from 'vitest'

import type {LoadedConfig} from '../../src/lib/core/config.js'
import type {ConnectionFlags} from '../../src/lib/core/context.js'
import {resolveContext} from '../../src/lib/core/context.js'
import type {ResolvedContext, Thresholds} from '../../src/lib/core/context-types.js'
import {selectComponents} from '../../src/lib/health/components.js'
import {type HealthReport, runHealthCheck} from '../../src/lib/health/service.js'
import type {SandboxState} from '../../src/lib/sandbox/index.js'

const NO_CONFIG: LoadedConfig = {path: '/nonexistent/cimops.yaml', exists: false, config: {contexts: {}}, raw: {contexts: {}}}

/** The resolved context of a sandbox, as `--nats-url/--prometheus-url/--alertmanager-url` would give it. */
export async function sandboxContext(state: SandboxState, flags: ConnectionFlags = {}, thresholds: Partial<Thresholds> = {}): Promise<ResolvedContext> {
  const ctx = await resolveContext(
    {natsUrl: state.natsServers.join(','), prometheusUrl: state.prometheusUrl, alertmanagerUrl: state.alertmanagerUrl, timeout: '2s', ...flags},
    {},
    NO_CONFIG,
  )
  const fromContext = Object.fromEntries(Object.keys(thresholds).map((key) => [key, 'context' as const]))
  return {...ctx, thresholds: {...ctx.thresholds, ...thresholds}, thresholdSources: {...ctx.thresholdSources, ...fromContext}}
}

/** The health check of `--component` names (all checks without). */
export function check(ctx: ResolvedContext, components: string[] = []): Promise<HealthReport> {
  return runHealthCheck(ctx, {components: selectComponents(components), signal: new AbortController().signal})
}

/** name -> status of every check in the report. */
export function statuses(report: HealthReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]))
}

export function checkNamed(report: HealthReport, name: string) {
  const found = report.checks.find((c) => c.name === name)
  expect(found, `check ${name} in ${JSON.stringify(statuses(report))}`).toBeDefined()
  return found!
}

export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last = await probe()
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs))
    last = await probe()
  }
  return last
}

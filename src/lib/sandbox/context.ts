import {saveContext} from '../contexts/service.js'
import {DEFAULTS} from '../core/context-types.js'
import {drMirrorName, type SandboxState} from './types.js'

export const SANDBOX_CONTEXT = 'sandbox'
/** The DR site of a two-site sandbox. */
export const SANDBOX_DR_CONTEXT = 'sandbox-dr'

/**
 * `sandbox up` points the `sandbox` context at the servers it started and makes it current; with two
 * sites it also writes `sandbox-dr` for the DR site's NATS, with the sandbox's one Prometheus and Alertmanager
 * (they run beside the primary; without them the context would fall back to the default addresses, someone else's).
 * Its events stream is the mirror the seed keeps there (EVENTS_DR), so checks look at the copy the site holds.
 */
export async function selectSandboxContext(state: SandboxState): Promise<{file: string; name: string; drName?: string}> {
  const shape = state.cluster === 3 ? '3-node cluster' : 'single node'
  const saved = await saveContext(
    SANDBOX_CONTEXT,
    {
      description: `local sandbox (${shape}${state.drNatsServers ? ', primary site' : ''}) in ${state.stateDir}`,
      nats: {servers: state.natsServers},
      ...(state.prometheusUrl ? {prometheus: {url: state.prometheusUrl}} : {}),
      ...(state.alertmanagerUrl ? {alertmanager: {url: state.alertmanagerUrl}} : {}),
      ...(state.eventMonitorUrl ? {monitor: {url: state.eventMonitorUrl}} : {}),
    },
    {use: true, replace: true},
  )
  if (!state.drNatsServers) return {file: saved.file, name: saved.name}
  const dr = await saveContext(
    SANDBOX_DR_CONTEXT,
    {
      description: `local sandbox (${shape}, DR site: a leaf node with its own JetStream domain) in ${state.stateDir}`,
      nats: {servers: state.drNatsServers},
      streams: {events: drMirrorName(DEFAULTS.streams.events)},
      ...(state.prometheusUrl ? {prometheus: {url: state.prometheusUrl}} : {}),
      ...(state.alertmanagerUrl ? {alertmanager: {url: state.alertmanagerUrl}} : {}),
    },
    {replace: true},
  )
  return {file: saved.file, name: saved.name, drName: dr.name}
}

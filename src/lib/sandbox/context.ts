import {saveContext} from '../contexts/service.js'
import type {SandboxState} from './types.js'

export const SANDBOX_CONTEXT = 'sandbox'

/** `sandbox up` points the `sandbox` context at the servers it started and makes it current. */
export async function selectSandboxContext(state: SandboxState): Promise<{file: string; name: string}> {
  const saved = await saveContext(
    SANDBOX_CONTEXT,
    {
      description: `local sandbox (${state.cluster === 3 ? '3-node cluster' : 'single node'}) in ${state.stateDir}`,
      nats: {servers: state.natsServers},
      ...(state.prometheusUrl ? {prometheus: {url: state.prometheusUrl}} : {}),
      ...(state.alertmanagerUrl ? {alertmanager: {url: state.alertmanagerUrl}} : {}),
      ...(state.eventMonitorUrl ? {monitor: {url: state.eventMonitorUrl}} : {}),
    },
    {use: true, replace: true},
  )
  return {file: saved.file, name: saved.name}
}

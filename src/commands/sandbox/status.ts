import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {cimopsDataDir} from '../../lib/core/paths.js'
import {describeServers, processVersions, renderProcesses} from '../../lib/sandbox/render.js'
import type {ProcessStatus, ServerSet} from '../../lib/sandbox/types.js'

export interface SandboxStatusResult {
  running: boolean
  healthy: boolean
  stateDir: string
  cluster?: 1 | 3
  sites?: 1 | 2
  /** The server set it was started with and the version each server reports. */
  servers?: ServerSet
  versions: Record<string, string>
  processes: Array<Omit<ProcessStatus, 'argv' | 'configFile' | 'dataDir'>>
}

export default class SandboxStatus extends BaseCommand<typeof SandboxStatus> {
  static summary = 'Show each sandbox server, its address and whether it is healthy'
  static description = 'Exit 0 when every server is up and ready, 1 when some are not, 3 when no sandbox is running.'
  static examples = ['<%= config.bin %> sandbox status', '<%= config.bin %> sandbox status --json']
  static flags = {'state-dir': Flags.string({summary: 'Where configs, data, logs and state live.', hidden: true})}

  async run(): Promise<SandboxStatusResult> {
    const {sandboxStatus, defaultSandboxDir} = await import('../../lib/sandbox/index.js')
    const stateDir = this.flags['state-dir'] ?? defaultSandboxDir(cimopsDataDir())
    const context = await this.context().catch(() => undefined)
    const status = await sandboxStatus(stateDir, context?.timeoutMs)
    const healthy = status.running && status.processes.every((p) => p.healthy)
    const versions = processVersions(status.processes)
    if (!status.running) {
      this.print('No sandbox running. Start one with `cimops sandbox up`.')
      process.exitCode = 3
    } else {
      this.print(renderProcesses(status.processes, this.style, this.width))
      this.print(`\nServers: ${describeServers(status.state?.servers, versions)}.`)
      if (!healthy) process.exitCode = 1
    }
    return {
      running: status.running,
      healthy,
      stateDir,
      cluster: status.state?.cluster,
      ...(status.state ? {sites: status.state.sites ?? 1} : {}),
      servers: status.state?.servers,
      versions,
      processes: status.processes.map(({argv: _argv, configFile: _configFile, dataDir: _dataDir, ...rest}) => rest),
    }
  }
}

/**
 * One NATS connection per command (issue 16): services that used to connect for each call now share the
 * command's session. Counted by the server itself (`total_connections` of /varz), through the built CLI.
 * Run `npm run build` first.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('a command holds one NATS connection', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  const cli = (...args: string[]) => runCli([...args, '--nats-url', sandbox().state.natsServers.join(',')], home.env)

  /** Client connections the server has accepted since it started. */
  const accepted = async (): Promise<number> => {
    const monitor = sandbox().state.processes.find((p) => p.component === 'nats')!.monitorUrl!
    const varz = (await (await fetch(`${monitor}/varz`)).json()) as {total_connections: number}
    return varz.total_connections
  }

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
  })

  afterAll(async () => {
    await home?.cleanup()
  })

  it('emergency stop --dry-run checks the domain and reads its consumers on one connection (it used to open two)', async () => {
    const before = await accepted()
    const run = await cli('emergency', 'stop', '--domain', 'workflow', '--dry-run', '--yes', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({dryRun: true, domain: 'workflow'})
    expect(await accepted()).toBe(before + 1)
  })

  it('morning-check reads health, event rates, drills and the fleet on one connection (it used to open two)', async () => {
    const before = await accepted()
    const run = await cli('morning-check', '--json')
    const report = JSON.parse(run.stdout) as {health: {status: string}; drills: {status: string}}
    expect(report.health.status, run.stdout).not.toBe('UNKNOWN')
    expect(await accepted()).toBe(before + 1)
  })
})

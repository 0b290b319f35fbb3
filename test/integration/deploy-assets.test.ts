import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {ROOT} from '../helpers/cli.js'

/** The shipped monitoring assets, checked by the servers' own tools (installed with the servers). */
describe('deploy/ assets', () => {
  const run = (program: string, args: string[], cwd = ROOT) => spawnSync(program, args, {cwd, encoding: 'utf8'})

  it('Prometheus rules load: promtool check rules', () => {
    const result = run('promtool', ['check', 'rules', 'deploy/prometheus/rules/cim.yml'])
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/)
  })

  it('the alerts fire and stay quiet as their unit tests say: promtool test rules', () => {
    const result = run('promtool', ['test', 'rules', 'cim_test.yml'], join(ROOT, 'deploy/prometheus/tests'))
    expect(result.status, result.stdout + result.stderr).toBe(0)
  })

  it('the Alertmanager routing is valid: amtool check-config', () => {
    const result = run('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml'])
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain('3 inhibit rules')
  })
})

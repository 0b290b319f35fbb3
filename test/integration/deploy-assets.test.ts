import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'

import {findServerBinary} from '../../src/lib/sandbox/binaries.js'
import {ROOT} from '../helpers/cli.js'

/** The shipped monitoring assets, checked by the tools of the chosen server set (CIMOPS_SERVERS). */
describe('deploy/ assets', () => {
  const run = (program: 'promtool' | 'amtool', args: string[], cwd = ROOT) => spawnSync(findServerBinary(program), args, {cwd, encoding: 'utf8'})

  it('the Prometheus config is valid, loads the rules and reads its target files without warnings: promtool check config', () => {
    const result = run('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'])
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain('SUCCESS: 1 rule files found')
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/)
    // A missing file_sd file is only a warning to promtool; the optional jobs ship empty target lists instead.
    expect(result.stdout + result.stderr).not.toContain('WARNING')
  })

  it('the Prometheus config scrapes the event monitor as the job the rules watch, and sends to Alertmanager', () => {
    const config = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      rule_files: string[]
      alerting: {alertmanagers: Array<{static_configs: Array<{targets: string[]}>}>}
      scrape_configs: Array<{job_name: string; static_configs?: Array<{targets: string[]}>; file_sd_configs?: Array<{files: string[]}>}>
    }
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job]))
    expect(jobs['cim-monitor'].static_configs?.[0].targets).toEqual(['127.0.0.1:9091'])
    expect(readFileSync(join(ROOT, 'deploy/prometheus/rules/cim.yml'), 'utf8')).toContain('up{job="cim-monitor"}')
    for (const job of ['node', 'nats', 'dcgm']) expect(jobs[job].file_sd_configs?.[0].files, job).toEqual([`targets/${job}.yml`])
    expect(config.rule_files).toEqual(['rules/*.yml'])
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['127.0.0.1:9093'])
  })

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

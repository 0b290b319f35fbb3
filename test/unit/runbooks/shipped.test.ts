/**
 * Every runbook shipped in runbooks/ passes `runbook lint`: front matter, attributes, and each `cimops …`
 * line checked against the commands of this build (oclif.manifest.json, written by `npm run build`,
 * which the test script runs first). A renamed command or flag breaks this test, not the on-call at 3 a.m.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'

import {catalogFromManifest, type CommandCatalog} from '../../../src/lib/runbooks/catalog.js'
import {lintLibrary} from '../../../src/lib/runbooks/lint.js'
import {loadRunbooks, packageRunbooksDir, type RunbookLibrary} from '../../../src/lib/runbooks/load.js'
import {EXPECTED_SECTIONS} from '../../../src/lib/runbooks/model.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const MANIFEST = join(ROOT, 'oclif.manifest.json')

/** Commands that change the system (a line with --dry-run does not). */
const CHANGES =
  /\b(systemctl (restart|start|stop)|kubectl (scale|rollout restart)|cimops (restore|emergency (stop|resume|gpu-evacuate)|gpu (evacuate|uncordon)|alerts silence add|incident declare)|cimops replay .*--(to-prefix|to-stream|resume)|nats (server raft peer-remove|stream (edit|purge|rm|cluster step-down))|rm -rf)\b/

let library: RunbookLibrary
let catalog: CommandCatalog

beforeAll(async () => {
  if (!existsSync(MANIFEST)) throw new Error(`${MANIFEST} is missing: run \`npm run build\` first (npm test does)`)
  catalog = await catalogFromManifest(MANIFEST)
  library = await loadRunbooks([packageRunbooksDir()])
})

describe('shipped runbooks', () => {
  it('pass lint with no error and no warning', () => {
    const result = lintLibrary(library, catalog)
    const report = result.problems.map((p) => `${p.path.slice(ROOT.length)}:${p.line ?? ''} ${p.severity}: ${p.message}`)
    expect(report).toEqual([])
    expect(result.runbooks).toBeGreaterThanOrEqual(12)
  })

  it('cover what the seed names, each with Meaning, Impact, Diagnosis and Mitigation and runnable diagnosis', () => {
    const ids = library.runbooks.map((r) => r.id).sort()
    expect(ids).toEqual(
      expect.arrayContaining(['nats-recovery', 'event-replay', 'gpu-failure', 'backup-restore', 'high-event-lag', 'memory-issues', 'missing-events', 'no-metrics', 'dashboards-not-loading', 'event-stream-stalled', 'disk-space-low', 'dr-drill']),
    )
    for (const runbook of library.runbooks) {
      const sections = runbook.sections.filter((s) => s.level === 2).map((s) => s.title)
      expect(sections, runbook.id).toEqual(expect.arrayContaining([...EXPECTED_SECTIONS]))
      expect(runbook.steps.filter((s) => !s.attributes.excludeFromRunAll).length, `${runbook.id} has steps for --all`).toBeGreaterThan(0)
      // Whatever changes something asks first and is left out of --all.
      for (const step of runbook.steps.filter((s) => s.script.split('\n').some((line) => CHANGES.test(line) && !line.includes('--dry-run')))) {
        expect(step.attributes.confirm && step.attributes.excludeFromRunAll, `${runbook.id}/${step.name} asks first and is not in --all`).toBe(true)
      }
    }
  })

  it('answer the seed\'s alerts', () => {
    const alerts = new Set(library.runbooks.flatMap((r) => r.alerts))
    for (const alert of ['HighEventProcessingLag', 'EventStreamStalled', 'HighMemoryUsage', 'DiskSpaceLow']) expect(alerts.has(alert), alert).toBe(true)
  })
})

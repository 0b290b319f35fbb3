import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {defaultRunbooksDir, loadRunbookIndex} from '../../../src/lib/alerts/runbooks.js'
import {runbookFor} from '../../../src/lib/alerts/list.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cimops-runbooks-'))
  await writeFile(join(dir, 'high-event-lag.md'), '---\ntitle: High event lag\nalerts: [HighEventLag, ProjectionStalled]\n---\n# High event lag\n')
  await writeFile(join(dir, 'queue.md'), '---\nalerts:\n  - QueueNearlyFull\n---\nsteps\n')
  await writeFile(join(dir, 'single.md'), '---\nalerts: GpuThermalThrottle\n---\n')
  await writeFile(join(dir, 'z-duplicate.md'), '---\nalerts: [HighEventLag]\n---\n')
  await writeFile(join(dir, 'no-front-matter.md'), '# Just notes\nalerts: [NotReally]\n')
  await writeFile(join(dir, 'broken.md'), '---\nalerts: [unclosed\n---\n')
  await writeFile(join(dir, 'wrong-type.md'), '---\nalerts: {a: 1}\n---\n')
  await writeFile(join(dir, 'README.txt'), '---\nalerts: [NotMarkdown]\n---\n')
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('loadRunbookIndex', () => {
  it('maps each alertname listed in front matter to the first runbook (by file name) listing it', async () => {
    const index = await loadRunbookIndex(dir)
    expect(Object.fromEntries([...index.byAlert].map(([alert, entry]) => [alert, entry.name]))).toEqual({
      HighEventLag: 'high-event-lag',
      ProjectionStalled: 'high-event-lag',
      QueueNearlyFull: 'queue',
      GpuThermalThrottle: 'single',
    })
    expect(index.byAlert.get('QueueNearlyFull')?.path).toBe(join(dir, 'queue.md'))
  })

  it('reports malformed front matter as warnings instead of failing', async () => {
    const {warnings} = await loadRunbookIndex(dir)
    expect(warnings).toHaveLength(2)
    expect(warnings.join('\n')).toMatch(/broken\.md: bad front matter/)
    expect(warnings.join('\n')).toMatch(/wrong-type\.md: front matter "alerts" must be a list/)
  })

  it('a missing directory is an empty index', async () => {
    expect(await loadRunbookIndex(join(dir, 'nope'))).toEqual({byAlert: new Map(), warnings: []})
  })

  it('the default is the package runbooks/ folder', () => {
    expect(defaultRunbooksDir()).toMatch(/[/\\]runbooks$/)
  })
})

describe('runbookFor', () => {
  it('the runbook_url annotation wins over the runbooks folder', async () => {
    const index = await loadRunbookIndex(dir)
    expect(runbookFor('HighEventLag', {runbook_url: 'https://x/rb'}, index)).toEqual({source: 'annotation', url: 'https://x/rb'})
    expect(runbookFor('HighEventLag', {}, index)).toEqual({source: 'runbooks', name: 'high-event-lag', path: join(dir, 'high-event-lag.md')})
    expect(runbookFor('Unknown', {}, index)).toBeNull()
    expect(runbookFor(undefined, {}, index)).toBeNull()
  })
})

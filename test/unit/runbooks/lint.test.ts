import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {catalogFrom} from '../../../src/lib/runbooks/catalog.js'
import {lintLibrary} from '../../../src/lib/runbooks/lint.js'
import {findRunbook, loadRunbooks, runbooksForAlert, runbookDirs} from '../../../src/lib/runbooks/load.js'

let dir: string
const catalog = catalogFrom([{id: 'health-check', strict: true, args: {}, flags: {format: {name: 'format', type: 'option', options: ['table', 'nagios']}}}])

const GOOD = `---
id: good
title: Good
alerts: [GoodAlert]
params:
  - name: MODE
    default: table
---
# Good
## Meaning
m
## Impact
i
## Diagnosis

Check health.

\`\`\`sh {"name": "health"}
cimops health-check --format "$MODE"
\`\`\`

Not in this version yet.

\`\`\`sh {"name": "future", "excludeFromRunAll": "true"}
cimops gpu nodes
\`\`\`
## Mitigation
x
`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cimops-lint-'))
  await mkdir(join(dir, 'nested'))
  await writeFile(join(dir, 'good.md'), GOOD)
  await writeFile(join(dir, 'README.md'), '# About these runbooks\n')
  await writeFile(join(dir, 'notes.md'), '# Plain notes\n')
  await writeFile(
    join(dir, 'nested', 'bad.md'),
    `---
title: Bad
alerts: [GoodAlert]
params:
  - name: UNUSED
  - name: CMD
---
\`\`\`sh
cimops health-check --format xml
cimops gpu nodes
eval "$CMD"
\`\`\`
`,
  )
  await writeFile(join(dir, 'nested', 'dup.md'), '---\nid: good\ntitle: Duplicate\n---\n')
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('lintLibrary', () => {
  it('checks every runbook below the directory, with the command catalog', async () => {
    const library = await loadRunbooks([dir])
    expect(library.runbooks.map((r) => r.id)).toEqual(['good', 'bad'])
    expect(library.documents).toEqual([join(dir, 'notes.md')])
    const result = lintLibrary(library, catalog)
    const lines = result.problems.map((p) => `${p.path.slice(dir.length + 1)}:${p.line ?? ''} ${p.severity} [${p.rule}] ${p.message}`)
    expect(lines).toEqual([
      'good.md:25 warning [cimops-command] "gpu nodes" is not a cimops command: cimops gpu nodes (not in this version of cimops; the step is excluded from --all)',
      'nested/bad.md:1 warning [alert-claimed] alert GoodAlert is answered by runbook good already, which alerts list and for-alert show',
      'nested/bad.md:1 error [front-matter] front matter has no "id" (the id is what `cimops runbook run ID` takes)',
      'nested/bad.md:1 warning [params] parameter UNUSED is not used by any step (steps read it as $UNUSED)',
      'nested/bad.md:1 warning [sections] no ## Meaning, ## Impact, ## Diagnosis, ## Mitigation sections',
      'nested/bad.md:8 error [param-eval] step "cimops-health-check" passes parameter CMD to eval: its value would run as a command',
      'nested/bad.md:8 warning [step-description] step "cimops-health-check" has no paragraph before it saying what it does',
      'nested/bad.md:8 warning [step-name] step 1 has no name; it is called "cimops-health-check" after its first command: give it {"name": "…"}',
      'nested/bad.md:9 error [cimops-command] cimops health-check: --format must be one of table, nagios, not "xml"',
      'nested/bad.md:10 error [cimops-command] "gpu nodes" is not a cimops command: cimops gpu nodes',
      'nested/dup.md:1 error [duplicate-id] runbook id "good" is used by ' + join(dir, 'good.md') + ' too; that one is used',
    ])
    expect(result).toMatchObject({runbooks: 2, steps: 3, cimopsCommands: 4, errors: 5, warnings: 6})
  })

  it('only the runbooks asked for', async () => {
    // The duplicate of its id in another file is a problem of `good` too.
    const result = lintLibrary(await loadRunbooks([dir]), catalog, {only: ['good']})
    expect(result).toMatchObject({runbooks: 1, errors: 1, warnings: 1})
    expect(result.problems.map((p) => p.rule)).toEqual(['cimops-command', 'duplicate-id'])
  })

  it('flags Alertmanager API v1 calls, which 0.27+ answers with 410, with the v2 path; Prometheus paths pass', async () => {
    const amDir = await mkdtemp(join(tmpdir(), 'cimops-lint-am-'))
    try {
      await writeFile(
        join(amDir, 'alerts.md'),
        `---
id: alerts
title: Alerts
---
Look at what fires.

\`\`\`sh {"name": "raw-alerts"}
# the seed used /api/v1/alerts here
curl -s http://localhost:9093/api/v1/alerts | jq '.data[]'
curl -s "$AM/api/v1/alerts?silenced=false"
ids=$(curl -fsS "\${PROM}/api/v1/silences" | jq -r '.data[].id')
curl -fsS "$PROM/api/v1/alerts" "$PROM/api/v1/status/config" "$PROM/api/v1/query?query=up"
curl -fsS "$ALERTMANAGER_URL/api/v2/alerts" "$AMOUNT/api/v1/alerts"
curl -X DELETE "$ALERTMANAGER_URL/api/v1/silence/$ID"
\`\`\`
`,
      )
      const result = lintLibrary(await loadRunbooks([amDir]), catalog)
      const found = result.problems.filter((p) => p.rule === 'alertmanager-api-v1')
      expect(found.map((p) => `${p.line} ${p.severity} ${p.step} ${p.message.split(': use ')[1]?.split(' ')[0]}`)).toEqual([
        '9 error raw-alerts /api/v2/alerts',
        '10 error raw-alerts /api/v2/alerts',
        '11 error raw-alerts /api/v2/silences',
        '14 error raw-alerts /api/v2/silence/$ID',
      ])
      expect(found[0].message).toBe(
        'step "raw-alerts" calls Alertmanager\'s API v1 (/api/v1/alerts), which Alertmanager 0.27+ answers with 410 Gone: use /api/v2/alerts (there since 0.16; its answer has no {"status", "data"} wrapper)',
      )
    } finally {
      await rm(amDir, {recursive: true, force: true})
    }
  })

  it('finds runbooks by id and by alert, and names the ones there are otherwise', async () => {
    const library = await loadRunbooks([dir])
    expect(findRunbook(library, 'good').title).toBe('Good')
    expect(runbooksForAlert(library, 'goodalert').map((r) => r.id)).toEqual(['good', 'bad'])
    expect(() => findRunbook(library, 'nope')).toThrow(/no runbook "nope": the runbooks are good, bad/)
  })

  it('reads --dir, else CIMOPS_RUNBOOKS (a PATH-like list), else the shipped runbooks', () => {
    expect(runbookDirs('/a')).toEqual(['/a'])
    expect(runbookDirs(undefined, {CIMOPS_RUNBOOKS: '/a:/b'})).toEqual(['/a', '/b'])
    expect(runbookDirs(undefined, {})[0]).toMatch(/[/\\]runbooks$/)
  })
})

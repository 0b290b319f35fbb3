import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {loadRunbooks, packageRunbooksDir} from '../../../src/lib/runbooks/load.js'
import {renderRunbookList} from '../../../src/lib/runbooks/render.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('runbook list (the shipped runbooks): ids whole, ALERTS wrapped in a block of at most 40', async () => {
    const {runbooks} = await loadRunbooks([packageRunbooksDir()])
    const text = expectFits((w) => renderRunbookList(runbooks, style, w), width, runbooks.map((r) => [r.id]))
    const header = text.split('\n')[0]
    const alerts = header.indexOf('ALERTS')
    expect(header.indexOf('STEPS') - alerts).toBeLessThanOrEqual(42)
    expect(text).not.toContain('…')
  })
})

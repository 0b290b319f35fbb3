import {describe, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {renderCounts} from '../../../src/lib/replay/render.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('replay dry run: domains and event types whole', () => {
    const counts = {WorkflowAnalyticsProjectionRebuildRequested: 12, WorkflowCompleted: 400, NodeAdded: 3}
    expectFits((w) => renderCounts('EVENT TYPE', counts, {style, width: w}), width, Object.keys(counts).map((k) => [k]))
  })
})

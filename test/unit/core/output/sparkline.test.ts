import {describe, expect, it} from 'vitest'

import {sparkline} from '../../../../src/lib/core/output/sparkline.js'

describe('sparkline with missing values', () => {
  it('leaves a gap where a bucket has no value and scales the rest as if it were not there', () => {
    expect(sparkline([null, null, 1, 8], 10)).toBe('  ▁█')
    expect(sparkline([null, 4, 4], 3)).toBe(' ▁▁')
  })

  it('averages only the values a bucket has', () => {
    expect(sparkline([null, 1, 8, 8], 2)).toBe('▁█')
  })
})

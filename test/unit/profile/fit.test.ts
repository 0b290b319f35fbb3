import {describe, expect, it} from 'vitest'

import {fitLine, studentTCdf} from '../../../src/lib/profile/fit.js'

const line = (n: number, y: (x: number) => number) => Array.from({length: n}, (_, x) => ({x, y: y(x)}))

describe('fitLine', () => {
  it('finds slope and intercept of an exact line, r² 1, full confidence', () => {
    expect(fitLine(line(10, (x) => 3 * x + 5))).toMatchObject({slope: 3, intercept: 5, r2: 1, slopeError: 0, confidence: 1})
  })

  it('a flat series: slope 0, and no confidence either way', () => {
    expect(fitLine(line(10, () => 7))).toMatchObject({slope: 0, r2: 1, confidence: 0.5})
  })

  it('noise around a rise: a slope near the true one, r² and confidence high', () => {
    const noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0, -0.1, 0.4, -0.3, 0.1]
    const fit = fitLine(line(10, (x) => 2 * x + noise[x]))!
    expect(fit.slope).toBeCloseTo(2, 1)
    expect(fit.r2).toBeGreaterThan(0.99)
    expect(fit.confidence).toBeGreaterThan(0.999)
  })

  it('noise alone: little confidence in growth', () => {
    const noise = [5, -3, 4, -6, 2, -1, 6, -4, 3, -5]
    const fit = fitLine(line(10, (x) => 100 + noise[x]))!
    expect(fit.r2).toBeLessThan(0.2)
    expect(fit.confidence).toBeGreaterThan(0.05)
    expect(fit.confidence).toBeLessThan(0.95)
  })

  it('a falling series: confidence in growth near 0', () => {
    expect(fitLine(line(8, (x) => 100 - 3 * x + (x % 2)))!.confidence).toBeLessThan(0.001)
  })

  it('no fit for fewer than three points or one x', () => {
    expect(fitLine(line(2, (x) => x))).toBeUndefined()
    expect(fitLine([{x: 1, y: 1}, {x: 1, y: 2}, {x: 1, y: 3}])).toBeUndefined()
  })
})

describe('studentTCdf', () => {
  it('matches tabulated quantiles', () => {
    // t tables: t(0.975, 1) = 12.706, t(0.95, 5) = 2.015, t(0.99, 10) = 2.764, t(0.975, 30) = 2.042
    expect(studentTCdf(12.706, 1)).toBeCloseTo(0.975, 4)
    expect(studentTCdf(2.015, 5)).toBeCloseTo(0.95, 3)
    expect(studentTCdf(2.764, 10)).toBeCloseTo(0.99, 3)
    expect(studentTCdf(-2.042, 30)).toBeCloseTo(0.025, 3)
    expect(studentTCdf(0, 4)).toBeCloseTo(0.5, 10)
  })
})

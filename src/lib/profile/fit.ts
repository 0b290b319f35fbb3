/**
 * Least-squares line through a series, with how sure the slope is: r² says how much of the variation the line
 * explains, `confidence` is the probability (Student's t with n - 2 degrees of freedom) that the true slope is
 * above zero, i.e. that the series really grows.
 */

export interface LineFit {
  /** Change of y per unit of x. */
  slope: number
  intercept: number
  /** 0..1; 1 for a series the line goes through exactly (or a constant one). */
  r2: number
  /** Standard error of the slope; 0 for an exact fit. */
  slopeError: number
  /** 0..1: how likely the slope is above zero. */
  confidence: number
}

/** Undefined for fewer than three points or points all at one x: no trend to speak of. */
export function fitLine(points: ReadonlyArray<{x: number; y: number}>): LineFit | undefined {
  const n = points.length
  if (n < 3) return undefined
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n
  let sxx = 0
  let sxy = 0
  let syy = 0
  for (const {x, y} of points) {
    sxx += (x - meanX) ** 2
    sxy += (x - meanX) * (y - meanY)
    syy += (y - meanY) ** 2
  }
  if (sxx === 0) return undefined
  const slope = sxy / sxx
  const intercept = meanY - slope * meanX
  const residual = Math.max(0, syy - slope * sxy)
  const r2 = syy === 0 ? 1 : 1 - residual / syy
  const slopeError = Math.sqrt(residual / (n - 2) / sxx)
  const confidence = slopeError === 0 ? (slope > 0 ? 1 : slope < 0 ? 0 : 0.5) : studentTCdf(slope / slopeError, n - 2)
  return {slope, intercept, r2, slopeError, confidence}
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
  return t >= 0 ? 1 - tail : tail
}

/** I_x(a, b) by its continued fraction (Numerical Recipes, betacf), on the side where it converges fast. */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  d = 1 / (Math.abs(d) < tiny ? tiny : d)
  let h = d
  for (let m = 1; m <= 200; m++) {
    for (const numerator of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + numerator * d
      d = 1 / (Math.abs(d) < tiny ? tiny : d)
      c = 1 + numerator / c
      if (Math.abs(c) < tiny) c = tiny
      h *= d * c
    }
    if (Math.abs(d * c - 1) < 1e-12) break
  }
  return h
}

/** Lanczos approximation (g = 7, 9 terms): accurate to ~15 digits for the positive arguments used here. */
function logGamma(z: number): number {
  const g = 7
  const coefficients = [0.999_999_999_999_809_9, 676.520_368_121_885_1, -1259.139_216_722_402_8, 771.323_428_777_653_1, -176.615_029_162_140_6, 12.507_343_278_686_905, -0.138_571_095_265_720_12, 9.984_369_578_019_571_6e-6, 1.505_632_735_149_311_6e-7]
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z)
  const shifted = z - 1
  let sum = coefficients[0]
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i] / (shifted + i)
  const t = shifted + g + 0.5
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum)
}

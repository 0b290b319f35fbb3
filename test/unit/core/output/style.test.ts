import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../../src/lib/core/output/style.js'

describe('createStyle', () => {
  const colored = createStyle({env: {FORCE_COLOR: '1'}})
  const plain = createStyle({env: {FORCE_COLOR: '1'}, noColor: true})

  it('paints with basic ANSI colours when colour is on', () => {
    expect(colored.color).toBe(true)
    expect(colored.status('OK')).toBe('\u001B[32mOK\u001B[39m')
    expect(colored.status('CRITICAL', 'down')).toBe('\u001B[31m\u001B[1mdown\u001B[22m\u001B[39m')
    expect(colored.dim('x')).toBe('\u001B[2mx\u001B[22m')
    expect(colored.bold('x')).toBe('\u001B[1mx\u001B[22m')
    expect(colored.accent('$ cimops health-check')).toBe('\u001B[36m$ cimops health-check\u001B[39m')
  })

  it('returns the text unchanged with --no-color', () => {
    expect(plain.color).toBe(false)
    for (const text of [plain.status('WARNING'), plain.dim('WARNING'), plain.bold('WARNING'), plain.accent('WARNING')]) expect(text).toBe('WARNING')
  })
})

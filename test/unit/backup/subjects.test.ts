import {describe, expect, it} from 'vitest'

import {subjectsOverlap} from '../../../src/lib/backup/subjects.js'

describe('subjectsOverlap', () => {
  it.each([
    ['cim.workflow.>', 'cim.>', true],
    ['cim.ops.>', 'cim.workflow.>', false],
    ['cim.*.created', 'cim.workflow.>', true],
    ['cim.*.created', 'cim.workflow.updated', false],
    ['a.b', 'a.b', true],
    ['a.b', 'a.b.c', false],
    ['a.>', 'a', false],
    ['a.*', 'a.>', true],
    ['>', 'anything.at.all', true],
    ['$KV.gpu.>', '$KV.gpu_nodes.>', false],
  ])('%s vs %s -> %s', (a, b, expected) => {
    expect(subjectsOverlap(a, b)).toBe(expected)
    expect(subjectsOverlap(b, a)).toBe(expected)
  })
})

import {describe, expect, it} from 'vitest'

import {locateOpsLog} from '../../../src/lib/adapters/nats/ops-events.js'

describe('where the ops log lives', () => {
  it('in the stream that captures all of cim.ops.>, whatever its name', () => {
    expect(locateOpsLog([{name: 'CIM_OPS', subjects: ['cim.ops.>']}], 'CIM_OPS')).toEqual({state: 'found', stream: 'CIM_OPS', configured: true})
    expect(locateOpsLog([{name: 'EVENTS', subjects: ['cim.>']}], 'CIM_OPS')).toEqual({state: 'found', stream: 'EVENTS', configured: false})
    expect(locateOpsLog([{name: 'ALL', subjects: ['audit.>', '>']}], 'CIM_OPS')).toMatchObject({state: 'found', stream: 'ALL'})
    expect(locateOpsLog([{name: 'EVENTS', subjects: ['cim.*.>']}], 'CIM_OPS')).toMatchObject({state: 'found', stream: 'EVENTS'})
  })

  it('nowhere yet when no stream captures an ops subject: the configured one can be created', () => {
    expect(locateOpsLog([], 'OPS_LOG')).toEqual({state: 'missing', stream: 'OPS_LOG'})
  })

  it('nowhere possible when streams capture only part of cim.ops.>, with the reason and the fix', () => {
    const location = locateOpsLog([{name: 'AUDIT', subjects: ['cim.ops.audit.>']}, {name: 'X', subjects: ['cim.*.incident.*']}], 'CIM_OPS')
    expect(location).toEqual({
      state: 'blocked',
      stream: 'CIM_OPS',
      reason: 'no stream can hold the ops log: AUDIT (cim.ops.audit.>), X (cim.*.incident.*) capture part of cim.ops.>, so CIM_OPS cannot be created beside them',
      hint: 'add cim.ops.> to the subjects of AUDIT, or remove the overlap so cimops can create CIM_OPS',
    })
  })
})

import {describe, it} from 'vitest'

import {renderContextList} from '../../../src/lib/contexts/render.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('context list: names whole', () => {
    const contexts = [
      {name: 'prod-eu-west-1', current: true, nats: 'nats://nats-1.prod-eu-west-1.internal:4222,nats://nats-2.prod-eu-west-1.internal:4222', prometheus: 'http://prometheus.prod-eu-west-1.internal:9090', alertmanager: 'http://alertmanager.prod-eu-west-1.internal:9093'},
      {name: 'prod-eu-west-2', current: false, nats: 'nats://nats-1.prod-eu-west-2.internal:4222'},
    ]
    expectFits((w) => renderContextList({file: '/home/a/.config/cimops/config.yaml', contexts}, {style, width: w}), width, [['prod-eu-west-1'], ['prod-eu-west-2']])
  })
})

import {describe, expect, it} from 'vitest'

import {type JsonObject, parseJson, stringifyJson} from '../../../../src/lib/adapters/nats/backup-json.js'
import {fitStreamConfig} from '../../../../src/lib/adapters/nats/stream-config.js'

// As nats-server 2.15.1 echoed it in a snapshot reply (backup.json), with settings added for the test.
const taken215 = parseJson(
  '{"name":"ORDERS","subjects":["orders.>"],"retention":"limits","max_age":9007199254740993000,"storage":"file","num_replicas":1,' +
    '"compression":"none","allow_direct":false,"consumer_limits":{},"allow_msg_ttl":true,"allow_batched":false,' +
    '"metadata":{"_nats.req.level":"1","_nats.ver":"2.15.1","owner":"billing"}}',
) as JsonObject

describe('a stream config fitted to the server it is restored into', () => {
  it('keeps every field a 2.15 server knows, byte for byte, and drops only the server-added metadata', () => {
    const {config, dropped} = fitStreamConfig(taken215, '2.15.1')
    expect(stringifyJson(config)).toContain('"max_age":9007199254740993000')
    expect(Object.keys(config)).toEqual(Object.keys(taken215))
    expect(config.metadata).toEqual({owner: 'billing'})
    expect(dropped).toEqual([])
  })

  it('leaves out what a 2.9 server does not know, naming the settings the restored stream lacks', () => {
    const {config, dropped} = fitStreamConfig(taken215, '2.9.10')
    expect(Object.keys(config)).toEqual(['name', 'subjects', 'retention', 'max_age', 'storage', 'num_replicas', 'allow_direct'])
    // compression "none", an empty consumer_limits and false flags are the defaults: nothing is lost with them.
    expect(dropped).toEqual(['allow_msg_ttl=true', 'metadata={"owner":"billing"}'])
  })

  it('drops template_owner for 2.14+, which removed templates and refuses unknown fields, but not for older servers', () => {
    const taken29 = parseJson('{"name":"T","subjects":["t.>"],"template_owner":"tpl","storage":"file"}') as JsonObject
    expect(fitStreamConfig(taken29, '2.15.1')).toEqual({config: {name: 'T', subjects: ['t.>'], storage: 'file'}, dropped: ['template_owner=tpl']})
    expect(fitStreamConfig(taken29, '2.13.0').config).toHaveProperty('template_owner', 'tpl')
  })

  it('an empty metadata map is left out; a server newer than the table keeps fields it may know', () => {
    const config = parseJson('{"name":"X","metadata":{"_nats.level":"5"},"allow_future_thing":true}') as JsonObject
    expect(fitStreamConfig(config, '2.12.0')).toEqual({config: {name: 'X'}, dropped: ['allow_future_thing=true']})
    expect(fitStreamConfig(config, '2.16.0').config).toEqual({name: 'X', allow_future_thing: true})
  })
})

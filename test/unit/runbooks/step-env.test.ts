/** What `runbook run` hands its steps (step-env.ts) and keeps out of the audit event (argv.ts). */
import {describe, expect, it} from 'vitest'

import {CONNECTION_ENV} from '../../../src/lib/core/context.js'
import {maskSecretParams} from '../../../src/lib/runbooks/argv.js'
import {contextParamValues, stepConnectionEnv} from '../../../src/lib/runbooks/step-env.js'

describe('stepConnectionEnv', () => {
  it('hands on the connection flags given as the variables core reads, and nothing for flags not given', () => {
    const env = stepConnectionEnv({context: 'prod', prometheusUrl: 'http://127.0.0.1:9090', timeout: '3s'}, false, {})
    expect(env).toEqual({[CONNECTION_ENV.context]: 'prod', [CONNECTION_ENV.prometheusUrl]: 'http://127.0.0.1:9090'})
  })

  it('moves credentials out of NATS_URL (flag or inherited) into natscli variables', () => {
    expect(stepConnectionEnv({natsUrl: 'nats://ops:s3cret@127.0.0.1:4222'}, false, {})).toEqual({NATS_URL: 'nats://127.0.0.1:4222', NATS_USER: 'ops', NATS_PASSWORD: 's3cret'})
    expect(stepConnectionEnv({}, true, {NATS_URL: 'nats://tok3n@127.0.0.1:4222'})).toEqual({NATS_URL: 'nats://127.0.0.1:4222', NATS_TOKEN: 'tok3n', NO_COLOR: '1'})
  })
})

describe('contextParamValues', () => {
  it("gives the context's monitor, Prometheus and Alertmanager URLs; MONITOR_URL only when the context names a monitor", () => {
    const ctx = {prometheus: {url: 'http://127.0.0.1:19090'}, alertmanager: {url: 'http://127.0.0.1:19093'}}
    expect(contextParamValues({...ctx, monitor: {url: 'http://127.0.0.1:19091'}})).toEqual({MONITOR_URL: 'http://127.0.0.1:19091', PROMETHEUS_URL: 'http://127.0.0.1:19090', ALERTMANAGER_URL: 'http://127.0.0.1:19093'})
    expect(contextParamValues(ctx)).not.toHaveProperty('MONITOR_URL')
  })
})

describe('maskSecretParams', () => {
  it('masks the values of secret parameters in every --param spelling, and nothing else', () => {
    const argv = ['high-event-lag', '--param', 'TOKEN=abc', '-p', 'consumer=x', '--param=token=def', '-pToken=ghi', '--all']
    expect(maskSecretParams(argv, new Set(['token']))).toEqual(['high-event-lag', '--param', 'TOKEN=***', '-p', 'consumer=x', '--param=token=***', '-pToken=***', '--all'])
  })
})

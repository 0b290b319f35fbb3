import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {loadConfig} from '../../../src/lib/core/config.js'
import {resolveContext} from '../../../src/lib/core/context.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cimops-notifiers-'))
})
afterAll(() => rm(dir, {recursive: true, force: true}))

describe('notifiers in a context', () => {
  it('resolve file paths relative to the config file and keep the endpoint overrides', async () => {
    const file = join(dir, 'config.yaml')
    await writeFile(
      file,
      `current-context: prod
contexts:
  prod:
    notifiers:
      pagerduty: {routingKeyFile: secrets/pd-key, url: "http://127.0.0.1:1/v2/enqueue"}
      slack: {webhookUrlFile: ~/slack-webhook}
`,
    )
    const ctx = await resolveContext({}, {}, await loadConfig(file))
    expect(ctx.notifiers).toEqual({
      pagerduty: {routingKeyFile: join(dir, 'secrets/pd-key'), url: 'http://127.0.0.1:1/v2/enqueue'},
      slack: {webhookUrlFile: expect.stringMatching(/slack-webhook$/)},
    })
    const none = await resolveContext({}, {}, {path: join(dir, 'none.yaml'), exists: false, config: {contexts: {}}, raw: {contexts: {}}})
    expect(none.notifiers).toEqual({})
  })

  it('refuse a secret written into the YAML itself', async () => {
    const file = join(dir, 'inline.yaml')
    await writeFile(file, 'contexts:\n  prod:\n    notifiers:\n      pagerduty: {routingKeyFile: pd-key, routingKey: abc123}\n')
    await expect(loadConfig(file)).rejects.toThrow(/contexts\.prod\.notifiers\.pagerduty: unknown key "routingKey"/)
  })
})

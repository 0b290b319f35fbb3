import {describe, expect, it} from 'vitest'

import {ApiError, UsageError} from '../../../src/lib/core/errors.js'
import {utf8Names, withUtf8Names, type VersionedServer} from '../../../src/lib/alerts/label-names.js'
import {parseMatcher} from '../../../src/lib/alerts/matchers.js'

const server = (kind: VersionedServer['kind'], version: string): VersionedServer & {asked: number} => {
  const s = {kind, baseUrl: 'http://127.0.0.1:9093', asked: 0, version: async () => (s.asked++, version)}
  return s
}
const refusal = new ApiError('alertmanager', 'http://127.0.0.1:9093/api/v2/alerts', 'HTTP 400: bad matcher format: service.name="checkout"', {status: 400})
const refuse = async () => {
  throw refusal
}

describe('UTF-8 label names on servers too old for them', () => {
  it('finds the names outside [a-zA-Z_][a-zA-Z0-9_]*', () => {
    expect(utf8Names(['service.name=a', 'domain=b', 'föö=c', 'a:b=d', '"service.name"=e'].map((m) => parseMatcher(m)))).toEqual(['service.name', 'föö', 'a:b'])
  })

  it("a 400 from Alertmanager 0.25 becomes one line naming 0.27; the version is asked only then", async () => {
    const am = server('Alertmanager', '0.25.0')
    const error = await withUtf8Names(am, [parseMatcher('service.name=checkout')], refuse).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).line).toMatch(/^the label name service\.name needs Alertmanager 0\.27\.0 or newer: the one at http:\/\/127\.0\.0\.1:9093 is 0\.25\.0/)
    expect(am.asked).toBe(1)
    await withUtf8Names(am, [parseMatcher('service.name=checkout')], async () => 'ok')
    expect(am.asked).toBe(1)
  })

  it('the refusal stands where the server is new enough, or no name is UTF-8', async () => {
    await expect(withUtf8Names(server('Prometheus', '3.5.3'), [parseMatcher('service.name=x')], refuse)).rejects.toBe(refusal)
    await expect(withUtf8Names(server('Alertmanager', '0.25.0'), [parseMatcher('domain=x')], refuse)).rejects.toBe(refusal)
  })
})

import {describe, expect, it} from 'vitest'

import {DEFAULTS, type ResolvedContext} from '../../../src/lib/core/context-types.js'
import {UnreachableError} from '../../../src/lib/core/errors.js'
import type {CheckResult} from '../../../src/lib/core/check/result.js'
import {runSites, type SiteVerdict} from '../../../src/lib/fleet/sites.js'

const site = (name: string, timeoutMs = 100) => ({name, timeoutMs, nats: {servers: [`nats://127.0.0.1:1${name.length}`]}, scoreWeights: DEFAULTS.scoreWeights}) as unknown as ResolvedContext
const verdict = (ctx: ResolvedContext, status: SiteVerdict['status'] = 'OK'): SiteVerdict => ({context: ctx.name!, status, worstFinding: '-'})
const asFailed = (ctx: ResolvedContext, failure: CheckResult): SiteVerdict => ({context: ctx.name!, status: failure.status, worstFinding: failure.summary})

describe('runSites', () => {
  it('runs every site at once: the fleet takes as long as its slowest site, not the sum', async () => {
    const sites = ['a', 'b', 'c'].map((name) => site(name, 1000))
    const fleet = await runSites(sites, async (ctx) => (await new Promise((resolve) => setTimeout(resolve, 200)), verdict(ctx)), asFailed)
    expect(fleet.contexts.map((s) => s.status)).toEqual(['OK', 'OK', 'OK'])
    expect(fleet.durationSeconds).toBeLessThan(0.5)
  })

  it('a site that never answers is CRITICAL after its own timeout plus the margin, and the others keep their verdicts', async () => {
    const started = performance.now()
    const fleet = await runSites(
      [site('up'), site('hung', 50), site('warn')],
      (ctx) => (ctx.name === 'hung' ? new Promise<never>(() => {}) : Promise.resolve(verdict(ctx, ctx.name === 'warn' ? 'WARNING' : 'OK'))),
      asFailed,
    )
    expect(performance.now() - started).toBeLessThan(50 + 1500 + 500)
    expect(fleet.contexts.map((s) => [s.context, s.status])).toEqual([['up', 'OK'], ['hung', 'CRITICAL'], ['warn', 'WARNING']])
    expect(fleet.contexts[1].worstFinding).toMatch(/^site hung at nats:\/\/127\.0\.0\.1:14 did not answer: no answer within/)
    expect(fleet.status).toBe('CRITICAL')
    expect(fleet.summary).toBe('2 of 3 sites not OK: hung CRITICAL, warn WARNING')
  })

  it('a site that cannot be reached is CRITICAL with its address; one that fails otherwise is UNKNOWN', async () => {
    const fleet = await runSites(
      [site('gone'), site('odd')],
      (ctx) => Promise.reject(ctx.name === 'gone' ? new UnreachableError('alertmanager', 'http://127.0.0.1:9', 'connection refused') : new Error('bad answer')),
      asFailed,
    )
    expect(fleet.contexts.map((s) => s.status)).toEqual(['CRITICAL', 'UNKNOWN'])
    expect(fleet.contexts[0].worstFinding).toContain('cannot reach alertmanager at http://127.0.0.1:9')
    expect(fleet.status).toBe('CRITICAL')
  })
})

/** Helpers for tests of `cimops monitor`: free ports, bounded waits, reading the exposition format. */
import {createServer} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

import type {JetStreamClient} from '@nats-io/jetstream'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/** Polls `probe` every 100ms until it gives a value; throws naming `what` after timeoutMs. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export interface Sample {
  labels: Record<string, string>
  value: number
}

/** Samples of one metric from the text format: labels as a record, value as a number. */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = []
  const pattern = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`)
  for (const line of text.split('\n')) {
    const match = pattern.exec(line)
    if (!match) continue
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value
    out.push({labels, value: Number(match[2])})
  }
  return out
}

export function sum(found: Sample[]): number {
  return found.reduce((total, s) => total + s.value, 0)
}

/** GET /metrics of a monitor; undefined when it does not answer. */
export async function scrape(base: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${base}/metrics`, {signal: AbortSignal.timeout(2000)})
    return response.ok ? await response.text() : undefined
  } catch {
    return undefined
  }
}

export async function readyStatus(base: string): Promise<{status: number; text: string} | undefined> {
  try {
    const response = await fetch(`${base}/readyz`, {signal: AbortSignal.timeout(2000)})
    return {status: response.status, text: await response.text()}
  } catch {
    return undefined
  }
}

/** Publishes one event, retrying while the stream has no leader (the node just killed or restarted) until `deadlineMs`. */
export async function publishUntilStored(js: JetStreamClient, subject: string, id: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    try {
      await js.publish(subject, JSON.stringify({id}), {msgID: id, timeout: 1000})
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(200)
    }
  }
}

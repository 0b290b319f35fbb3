import {UsageError} from './errors.js'

export interface ConfirmOptions {
  /** --yes was given. */
  yes: boolean
  /** The flag to name in the refusal, default --yes. */
  flag?: string
  input?: NodeJS.ReadStream
  output?: NodeJS.WriteStream
}

/**
 * Asks before a destructive or disruptive action (DESIGN.md "Safety"). With --yes it proceeds; on a
 * terminal it asks and returns the answer; without a terminal it refuses (exit 64) and says how to proceed.
 */
export async function confirm(question: string, {yes, flag = '--yes', input = process.stdin, output = process.stderr}: ConfirmOptions): Promise<boolean> {
  if (yes) return true
  if (!input.isTTY || !output.isTTY) {
    throw new UsageError(`refusing without confirmation: ${question}`, 'no terminal to ask on', {hint: `pass ${flag} to proceed`})
  }
  const {createInterface} = await import('node:readline/promises')
  const rl = createInterface({input, output})
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

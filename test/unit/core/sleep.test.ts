import {describe, expect, it} from 'vitest'

import {InterruptedError} from '../../../src/lib/core/errors.js'
import {untilAborted} from '../../../src/lib/core/sleep.js'

const never = () => new Promise<never>(() => {})

describe('untilAborted', () => {
  it('is the work\'s outcome while the signal stays quiet', async () => {
    const controller = new AbortController()
    await expect(untilAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7)
    await expect(untilAborted(Promise.reject(new Error('refused')), controller.signal)).rejects.toThrow('refused')
  })

  it('rejects with the abort\'s reason the moment it fires, or at once if it has, while the work hangs', async () => {
    const controller = new AbortController()
    const waiting = untilAborted(never(), controller.signal)
    controller.abort(new InterruptedError('sandbox up was interrupted'))
    await expect(waiting).rejects.toThrow('sandbox up was interrupted')
    await expect(untilAborted(never(), controller.signal)).rejects.toBeInstanceOf(InterruptedError)
  })

  it('turns a reason that is no error into an InterruptedError, and leaves a later failure of the work unheard', async () => {
    const controller = new AbortController()
    let fail!: (error: Error) => void
    const work = new Promise<never>((_, reject) => (fail = reject))
    const waiting = untilAborted(work, controller.signal)
    controller.abort('stop')
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError)
    fail(new Error('late')) // an unhandled rejection here would fail the run
    await new Promise((resolve) => setTimeout(resolve, 10))
  })
})

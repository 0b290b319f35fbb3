/**
 * How a run shows while it happens. On a terminal: an ink view on stderr (output scrolling by, a live
 * footer with the running step and its time). Otherwise: plain lines, each output line prefixed with
 * its step's name, so a log or CI job reads well. Both turn the executor's events into the same words.
 */
import type {Style} from '../core/output/style.js'
import type {RunEvent} from './execute.js'
import type {RunbookStep} from './model.js'
import {paintStatusLine, stepFinishLine, stepHeaderLines} from './render.js'

export interface RunReporter {
  handle(event: RunEvent): void
  /** Shows a step before a question is asked about it (its header is then not repeated). */
  announce(step: RunbookStep, position: number, total: number): void
  /** Before a prompt: nothing may be drawn while the operator types. */
  pause(): Promise<void>
  stop(): Promise<void>
}

/** The live view on a terminal (not under --json, not in CI); prefixed lines on stdout otherwise, on stderr under --json. */
export async function runReporter({json, style}: {json: boolean; style: Style}): Promise<RunReporter> {
  if (!json && process.stderr.isTTY && !isCI()) return liveReporter(process.stderr)
  return plainReporter((line) => (json ? process.stderr.write(`${line}\n`) : process.stdout.write(`${line}\n`)), style)
}

function isCI(): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}

/** Prefixed lines: `[step] output`, written with `write` (stdout, or stderr under --json). */
export function plainReporter(write: (line: string) => void, style: Style): RunReporter {
  const announced = new Set<string>()
  const header = (step: RunbookStep, position: number, total: number) => {
    const [head, ...rest] = stepHeaderLines(step, position, total)
    write(style.bold(head))
    for (const line of rest) write(style.dim(line))
    announced.add(step.name)
  }
  return {
    handle(event) {
      switch (event.type) {
        case 'step-started':
          if (!announced.has(event.step.name)) header(event.step, event.position, event.total)
          break
        case 'step-output':
          write(`${style.dim(`[${event.step.name}]`)} ${event.line}`)
          break
        case 'step-finished':
          write(paintStatusLine(style, event.record.status, stepFinishLine(event.record, event.position, event.total)))
          break
        default:
          break
      }
    },
    announce: header,
    pause: async () => {},
    stop: async () => {},
  }
}

/** Redraws of the footer (elapsed time, spinner) and flushes of buffered output, per second. */
const FRAME_MS = 100
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** The ink view on stderr; ink and react are loaded only here. */
export async function liveReporter(stream: NodeJS.WriteStream = process.stderr): Promise<RunReporter> {
  const [{render}, {createElement}, {RunbookRunView}] = await Promise.all([import('ink'), import('react'), import('../ui/runbook-run.js')])
  type Line = import('../ui/runbook-run.js').RunLine
  let lines: Line[] = []
  let nextId = 0
  let instance: ReturnType<typeof render> | undefined
  let timer: NodeJS.Timeout | undefined
  let running: {step: RunbookStep; position: number; total: number; since: number} | undefined
  const announced = new Set<string>()

  const push = (text: string, kind: Line['kind']) => {
    lines.push({id: nextId++, text, kind})
  }
  const headerLines = (step: RunbookStep, position: number, total: number) => {
    const [head, ...rest] = stepHeaderLines(step, position, total)
    push(head, 'header')
    for (const line of rest) push(line, 'note')
  }
  const footer = () => {
    if (!running) return undefined
    const elapsed = (Date.now() - running.since) / 1000
    return `${SPINNER[Math.floor(Date.now() / FRAME_MS) % SPINNER.length]} [${running.position}/${running.total}] ${running.step.name}  ${elapsed.toFixed(1)}s`
  }
  const draw = () => {
    const props = {lines: [...lines], footer: footer()}
    if (instance) instance.rerender(createElement(RunbookRunView, props))
    else instance = render(createElement(RunbookRunView, props), {stdout: stream, exitOnCtrlC: false, patchConsole: false})
  }
  const unmount = async () => {
    if (timer) clearInterval(timer)
    timer = undefined
    if (!instance) return
    draw()
    instance.unmount()
    await instance.waitUntilExit().catch(() => {})
    instance = undefined
    // Static lines already written stay on screen; a new instance starts from an empty list.
    lines = []
  }

  return {
    handle(event) {
      switch (event.type) {
        case 'step-started':
          if (!announced.has(event.step.name)) headerLines(event.step, event.position, event.total)
          running = {step: event.step, position: event.position, total: event.total, since: Date.now()}
          draw()
          if (timer) clearInterval(timer)
          timer = setInterval(draw, FRAME_MS)
          break
        case 'step-output':
          push(event.line, event.stream)
          break
        case 'step-finished': {
          running = undefined
          const status = event.record.status
          push(stepFinishLine(event.record, event.position, event.total), status === 'succeeded' ? 'ok' : status === 'ignored' || status === 'declined' ? 'warn' : 'fail')
          if (timer) clearInterval(timer)
          timer = undefined
          draw()
          break
        }
        default:
          break
      }
    },
    announce(step, position, total) {
      headerLines(step, position, total)
      announced.add(step.name)
      draw()
    },
    async pause() {
      await unmount()
    },
    async stop() {
      running = undefined
      await unmount()
    },
  }
}

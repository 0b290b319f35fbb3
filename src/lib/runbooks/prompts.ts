/** The questions a run asks on a terminal (stderr, so stdout stays for the result): a parameter's value, whether to run a step. */
import type {Answer} from './execute.js'
import type {RunbookStep} from './model.js'
import type {RunReporter} from './reporter.js'

/** Asks on the terminal; Ctrl-C (or a closed stdin) answers 'q'. */
export async function question(text: string, signal: AbortSignal): Promise<string> {
  const {createInterface} = await import('node:readline/promises')
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    return await rl.question(text, {signal})
  } catch {
    return 'q'
  } finally {
    rl.close()
  }
}

/** A missing parameter's value; a secret one is never typed where it would echo. */
export async function askParam(param: {name: string; description?: string; secret: boolean}, signal: AbortSignal): Promise<string | undefined> {
  if (param.secret) return undefined
  return question(`${param.name}${param.description ? ` (${param.description})` : ''}: `, signal)
}

/** Shows the step, then asks whether to run it: yes by default, unless it changes things or is not part of --all. */
export async function askStep(reporter: Pick<RunReporter, 'announce' | 'pause'>, step: RunbookStep, position: number, total: number, signal: AbortSignal): Promise<Answer> {
  reporter.announce(step, position, total)
  await reporter.pause()
  const cautious = step.attributes.confirm || step.attributes.excludeFromRunAll
  const why = step.attributes.confirm ? 'This step changes things. ' : step.attributes.excludeFromRunAll ? 'This step is not part of --all. ' : ''
  const answer = (await question(`${why}Run step ${position}/${total} ${step.name}? ${cautious ? '[y/N/q]' : '[Y/n/q]'} `, signal)).trim().toLowerCase()
  if (answer === 'q' || answer === 'quit') return 'quit'
  if (answer === '') return cautious ? 'no' : 'yes'
  return /^y(es)?$/.test(answer) ? 'yes' : 'no'
}

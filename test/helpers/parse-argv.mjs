#!/usr/bin/env node
// Parses command lines as the built CLI does (bin/run.js: global flags moved last, then the command's own
// init(), which parses its flags and arguments) without running them. Reads a JSON array of argv arrays on
// stdin; writes a JSON array with, for each, the command id and the usage error parsing gave, if any.
// One process for them all: the examples test parse-checks examples whose shape another example runs.
import {Config} from '@oclif/core'

import {globalFlagsLast} from '../../dist/lib/core/global-argv.js'

const ROOT = new URL('../..', import.meta.url).pathname
const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const calls = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const config = await Config.load(ROOT)

/** What bin/run.js answers itself, without oclif. */
const ANSWERED_BY_BIN = new Set(['--version', '-v', 'version', '--help', '-h', 'help'])

async function parse(argv) {
  if (argv.length === 1 && ANSWERED_BY_BIN.has(argv[0])) return {id: argv[0]}
  const args = globalFlagsLast(argv)
  // The command is named by the longest run of leading words that is a command id, as oclif finds it.
  let words = args.findIndex((arg) => arg.startsWith('-'))
  if (words === -1) words = args.length
  for (; words > 0; words--) {
    const id = args.slice(0, words).join(':')
    const command = config.findCommand(id)
    if (!command) continue
    const Command = await command.load()
    const instance = new Command(args.slice(words), config)
    try {
      await instance.init()
      return {id}
    } catch (error) {
      return {id, error: String(error.message).split('\n').slice(0, 2).join(' ').trim()}
    } finally {
      // init() listens for Ctrl-C to stop the run it prepares; there is none here.
      process.removeAllListeners('SIGINT')
      process.removeAllListeners('SIGTERM')
    }
  }
  return {error: `no command named by "${args.join(' ')}"`}
}

const results = []
for (const argv of calls) results.push(await parse(argv))
process.stdout.write(JSON.stringify(results), () => process.exit(0))

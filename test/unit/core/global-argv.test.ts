import {describe, expect, it} from 'vitest'

import {BaseCommand} from '../../../src/lib/core/base-command.js'
import {GLOBAL_FLAGS, globalFlagsLast} from '../../../src/lib/core/global-argv.js'

describe('global flags before the command', () => {
  it('move behind the command and its arguments, values with them', () => {
    expect(globalFlagsLast(['--context', 'prod', 'health-check', '--component', 'nats'])).toEqual(['health-check', '--component', 'nats', '--context', 'prod'])
    expect(globalFlagsLast(['--json', '--timeout=2s', '--no-color', 'stream', 'info', 'EVENTS'])).toEqual(['stream', 'info', 'EVENTS', '--json', '--timeout=2s', '--no-color'])
  })

  it('stay before a `--`, where they are still flags', () => {
    expect(globalFlagsLast(['--verbose', 'incident', 'note', 'INC-1', '--', '--not-a-flag'])).toEqual(['incident', 'note', 'INC-1', '--verbose', '--', '--not-a-flag'])
  })

  it('leave everything else as it is: commands first, unknown flags, a value missing', () => {
    const unchanged = [['health-check', '--context', 'prod'], ['--bogus', '--context', 'prod', 'health-check'], ['--context'], ['--version'], []]
    for (const argv of unchanged) expect(globalFlagsLast(argv)).toEqual(argv)
    // Only the leading run of global flags moves.
    expect(globalFlagsLast(['--verbose', '--bogus', 'health-check'])).toEqual(['--bogus', 'health-check', '--verbose'])
  })

  it('are the base command\'s flags and --json, each taking a value or not as it does', () => {
    const declared = Object.fromEntries(Object.entries(BaseCommand.baseFlags).map(([name, flag]) => [name, flag.type === 'boolean' ? 'boolean' : 'value']))
    expect(GLOBAL_FLAGS).toEqual({...declared, json: 'boolean'})
  })
})

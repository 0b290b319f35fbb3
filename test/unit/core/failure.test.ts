import {Args, Flags, Parser} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {describeFailure, usageLine} from '../../../src/lib/core/failure.js'

async function parseError(argv: string[], args: Parameters<typeof Parser.parse>[1]['args']): Promise<Error> {
  try {
    await Parser.parse(argv, {args})
  } catch (error) {
    return error as Error
  }
  throw new Error('parse succeeded')
}

describe('a missing argument', () => {
  const args = {
    id: Args.string({description: 'Incident id, e.g. INC-20261122-1.', required: true}),
    text: Args.string({description: 'the note', required: true}),
  }

  it('is named, described and shown with the usage line, exit 64', async () => {
    const error = await parseError(['INC-1'], args)
    const failure = describeFailure(error, {isCheck: false, command: 'incident:note', parsing: true, usage: 'cimops incident note ID TEXT [flags]'})
    expect(failure).toMatchObject({code: 'USAGE', exit: 64})
    expect(failure.line).toBe('missing argument TEXT: the note (usage: cimops incident note ID TEXT [flags])')
  })

  it('names every argument missing; a check still exits 64', async () => {
    const error = await parseError([], args)
    const failure = describeFailure(error, {isCheck: true, command: 'incident:note', parsing: true, usage: 'cimops incident note ID TEXT [flags]'})
    expect(failure.exit).toBe(64)
    expect(failure.line).toBe('missing arguments ID, TEXT: ID is incident id, e.g. INC-20261122-1; TEXT is the note (usage: cimops incident note ID TEXT [flags])')
  })

  it('keeps the other parse errors as they were', async () => {
    const error = await parseError(['a', 'b'], {one: Args.string()})
    const failure = describeFailure(error, {isCheck: false, command: 'stream:info', parsing: true, usage: 'cimops stream info [ONE] [flags]'})
    expect(failure.line).toMatch(/^invalid usage: Unexpected argument: b .*\(see `cimops stream info --help`\)$/)
  })
})

describe('an argument too many', () => {
  it('quotes an empty or spaced one, which would otherwise read as nothing', async () => {
    const error = await parseError(['', 'a b', 'c'], {})
    const failure = describeFailure(error, {isCheck: false, command: 'incident:declare', parsing: true})
    expect(failure.line).toBe('invalid usage: Unexpected arguments: "", "a b", c (see `cimops incident declare --help`)')
  })
})

describe('usageLine', () => {
  it('shows required arguments bare, optional ones in brackets, and required flags', () => {
    const args = {stream: Args.string(), filter: Args.string({required: true})}
    const flags = {to: Flags.string({required: true}), dry: Flags.boolean()}
    expect(usageLine('cimops', 'events:subjects', {args, flags})).toBe('cimops events subjects [STREAM] FILTER --to <value> [flags]')
  })

  it('takes a declared usage as it is', () => {
    expect(usageLine('cimops', 'consumer:info', {usage: '<%= command.id %> [STREAM] CONSUMER [flags]'})).toBe('cimops consumer info [STREAM] CONSUMER [flags]')
  })
})

describe('an error of the filesystem', () => {
  const fsError = (code: string, syscall: string, path: string) => Object.assign(new Error(`${code}: whatever, ${syscall} '${path}'`), {code, syscall, path})

  it('names the call, the path and the reason, with what to do, never "please report it"; exit 2, UNKNOWN for a check', () => {
    const failure = describeFailure(fsError('EACCES', 'open', '/srv/backups/set/manifest.json'), {isCheck: false, command: 'backup:create'})
    expect(failure).toMatchObject({code: 'FILESYSTEM', exit: 2})
    expect(failure.line).toBe('backup create failed: open /srv/backups/set/manifest.json: permission denied (choose a place you may write to, or check its permissions)')
    expect(describeFailure(fsError('ENOSPC', 'write', '/var/x'), {isCheck: true, command: 'health-check'})).toMatchObject({exit: 3, hint: 'free some space, or choose another place'})
  })

  it('leaves an error without a path, or of another kind, to be reported', () => {
    expect(describeFailure(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED', syscall: 'connect'}), {isCheck: false, command: 'x'}).code).toBe('INTERNAL')
    expect(describeFailure(Object.assign(new Error('odd'), {code: 'ENOENT'}), {isCheck: false, command: 'x'}).code).toBe('INTERNAL')
  })
})

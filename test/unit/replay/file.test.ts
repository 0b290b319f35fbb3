import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {RangeEvent} from '../../../src/lib/adapters/nats/range-reader.js'
import {checkReplayFile, openReplayFile, readReplayFile} from '../../../src/lib/replay/file.js'

const messages: RangeEvent[] = [
  {seq: 3, timeMs: Date.parse('2026-11-22T01:00:00.123Z'), subject: 'cim.a.b.c.D', headers: {'Nats-Msg-Id': ['e1']}, data: new TextEncoder().encode('{"id":"e1"}')},
  {seq: 9, timeMs: Date.parse('2026-11-22T01:00:01Z'), subject: 'cim.a.b.c.E', headers: {}, data: new Uint8Array([0xff, 0x00, 0xfe])},
]

describe('replay files', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replay-file-'))
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))

  const collect = async (path: string) => {
    const out = []
    await checkReplayFile(path)
    for await (const m of readReplayFile(path)) out.push(m)
    return out
  }

  for (const name of ['events.jsonl', 'events.jsonl.gz']) {
    it(`round-trips text and binary bodies through ${name}`, async () => {
      const path = join(dir, name)
      const writer = openReplayFile(path)
      for (const m of messages) writer.write(m)
      await writer.close()
      const raw = await readFile(path)
      const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')
      const [format, ...lines] = text.trim().split('\n').map((l) => JSON.parse(l))
      expect(format).toEqual({format: 'cimops-replay/2'})
      expect(lines[0]).toEqual({seq: 3, time: '2026-11-22T01:00:00.123Z', subject: 'cim.a.b.c.D', headers: {'Nats-Msg-Id': ['e1']}, data: '{"id":"e1"}'})
      expect(lines[1].dataBase64).toBe('/wD+')
      expect(lines[2]).toEqual({end: {events: 2, digest: {algorithm: 'sha256-subject-data', value: expect.stringMatching(/^[0-9a-f]{64}$/)}}})
      expect(await collect(path)).toEqual(messages)
    })
  }

  it('a bad line is a data error naming the line; a missing file is not found', async () => {
    const path = join(dir, 'bad.jsonl')
    await writeFile(path, '{"seq":1,"time":"2026-11-22T01:00:00Z","subject":"a","headers":{},"data":"x"}\nnot json\n')
    await expect(collect(path)).rejects.toMatchObject({code: 'BAD_DATA', what: `bad replay file line ${path}:2`})
    await expect(collect(join(dir, 'missing.jsonl'))).rejects.toMatchObject({code: 'NOT_FOUND'})
  })

  it('a file cut at a line boundary or edited is refused by the check, before any event is read; an older file is read with a warning', async () => {
    const path = join(dir, 'events.jsonl')
    const writer = openReplayFile(path)
    for (const m of messages) writer.write(m)
    await writer.close()
    const [format, first, second, end] = (await readFile(path, 'utf8')).trim().split('\n')
    const handed: unknown[] = []
    const read = async (text: string, onWarning?: (line: string) => void) => {
      await writeFile(path, text)
      await checkReplayFile(path, {onWarning})
      for await (const m of readReplayFile(path)) handed.push(m)
    }
    await expect(read(`${format}\n${first}\n`)).rejects.toMatchObject({code: 'BAD_DATA', line: `${path} is cut short: it ends after 1 events without its end line (export it again; nothing was replayed from it)`})
    await expect(read(`${format}\n${first}\n${end}\n`)).rejects.toMatchObject({line: expect.stringMatching(/is corrupt: 1 events, its end line says 2/)})
    await expect(read(`${format}\n${first}\n${first}\n${end}\n`)).rejects.toMatchObject({line: expect.stringMatching(/is corrupt: the content digest differs from its end line/)})
    await expect(read(`${format}\n${first}\n${end}\n${second}\n`)).rejects.toMatchObject({what: `bad replay file line ${path}:4`})
    expect(handed).toEqual([])
    const warnings: string[] = []
    await read(`${first}\n${second}\n`, (line) => warnings.push(line))
    expect(handed).toEqual(messages)
    expect(warnings).toEqual([`${path} was made by an older cimops: it has no end line, so a file cut short would go unnoticed`])
  })

  it('discard leaves no file behind', async () => {
    const path = join(dir, 'gone.jsonl')
    const writer = openReplayFile(path)
    writer.write(messages[0])
    await writer.discard()
    await expect(readFile(path)).rejects.toThrow()
  })
})

import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {detectGpuTool, nvidiaSmiBinary} from '../../../../src/lib/adapters/gpu/detect.js'

describe('detectGpuTool', () => {
  const root = mkdtempSync(join(tmpdir(), 'cimops-detect-'))
  afterAll(() => rmSync(root, {recursive: true, force: true}))

  const executable = join(root, 'bin-exec')
  const notExecutable = join(root, 'bin-plain')
  const directory = join(root, 'bin-dir')
  const empty = join(root, 'bin-empty')
  for (const dir of [executable, notExecutable, directory, empty]) mkdirSync(dir)
  writeFileSync(join(executable, 'nvidia-smi'), '#!/bin/sh\n')
  chmodSync(join(executable, 'nvidia-smi'), 0o755)
  writeFileSync(join(notExecutable, 'nvidia-smi'), 'not a program')
  chmodSync(join(notExecutable, 'nvidia-smi'), 0o644)
  mkdirSync(join(directory, 'nvidia-smi'))

  it('finds an executable nvidia-smi anywhere on PATH', () => {
    expect(detectGpuTool({PATH: `${empty}:${executable}`}, 'linux')).toBe('nvidia-smi')
  })

  it.each([
    ['an empty PATH', ''],
    ['a PATH without it', empty],
    ['a directory named nvidia-smi', directory],
  ])('nothing with %s', (_, path) => {
    expect(detectGpuTool({PATH: path}, 'linux')).toBeUndefined()
  })

  it('ignores a file that is not executable', () => {
    expect(detectGpuTool({PATH: notExecutable}, 'linux')).toBeUndefined()
  })

  it('powermetrics only on macOS, and only when /usr/bin/powermetrics exists', () => {
    expect(detectGpuTool({PATH: empty}, 'linux')).toBeUndefined()
    // This suite runs on Linux hosts, where the file is absent; on a Mac it is part of the OS.
    expect(detectGpuTool({PATH: empty}, 'darwin')).toBe(process.platform === 'darwin' ? 'powermetrics' : undefined)
  })

  it('CIMOPS_NVIDIA_SMI names the binary and wins, even when missing, so a wrong path fails loudly', () => {
    const env = {PATH: empty, CIMOPS_NVIDIA_SMI: '/opt/nvidia/bin/nvidia-smi'}
    expect(detectGpuTool(env, 'linux')).toBe('nvidia-smi')
    expect(nvidiaSmiBinary(env)).toBe('/opt/nvidia/bin/nvidia-smi')
    expect(nvidiaSmiBinary({PATH: executable})).toBe('nvidia-smi')
    expect(detectGpuTool({PATH: empty, CIMOPS_NVIDIA_SMI: ''}, 'linux')).toBeUndefined()
  })
})

import {lstat, realpath, rename, rm, stat, writeFile} from 'node:fs/promises'
import type {Stats} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

import {OperationError, UsageError} from './errors.js'
import {filesystemReason} from './failure.js'
import {makeDirectories} from './directories.js'

/**
 * Writes a file so readers see either the old or the new content, never half of it:
 * a temp file in the same directory, then rename (atomic on one filesystem). Creates the directory: for cimops's own files.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, mode?: number): Promise<void> {
  await makeDirectories(dirname(path))
  await replaceFile(path, content, mode)
}

/**
 * A file the user named with `flag` (--textfile, --out), written atomically into a directory that must exist: a tree
 * created from a typo would leave the file where nothing reads it.
 */
export async function writeUserFile(path: string, content: string | Uint8Array, flag: string, mode?: number): Promise<void> {
  const target = await checkUserFile(path, flag)
  try {
    await replaceFile(target, content, mode)
  } catch (error) {
    // Said of the file the user named, not of the temporary file beside it.
    const reason = filesystemReason(error)
    if (reason) throw new OperationError(`cannot write ${flag} ${path}`, reason.phrase, {hint: reason.hint})
    throw error
  }
}

/**
 * Where a file the user named is to be written: in a directory that exists, at a regular file or at nothing yet; a
 * symbolic link is followed, so it still points at the new content. A rename replaces whatever the path holds, so a
 * device, a pipe or a socket named by mistake (`--to-file /dev/stdout`, as root) would become a regular file: refused.
 * Called before the work as well, so that a wrong path fails at once, not after a run.
 */
export async function checkUserFile(path: string, flag: string): Promise<string> {
  const dir = dirname(resolve(path))
  const found = await stat(dir).catch((error: NodeJS.ErrnoException) => error)
  if (found instanceof Error) {
    const why = found.code === 'ENOENT' ? `directory ${dir} does not exist` : `cannot use directory ${dir}: ${found.code ?? found.message}`
    throw new UsageError(`cannot write ${flag} ${path}`, why, {hint: 'cimops creates no directories for the files you name: check the path, or create it first'})
  }
  if (!found.isDirectory()) throw new UsageError(`cannot write ${flag} ${path}`, `${dir} is not a directory`)
  const entry = await lstat(path).catch(() => undefined)
  if (!entry || entry.isFile()) return path
  const target = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry
  if (!target) throw new UsageError(`cannot write ${flag} ${path}`, 'it is a symbolic link to nothing', {hint: 'give the path of a regular file, or of none yet'})
  if (target.isFile()) return realpath(path)
  throw new UsageError(`cannot write ${flag} ${path}`, `it is ${fileKind(target)}, not a regular file: cimops writes a new file and renames it over the old one, which would replace it`, {
    hint: 'give the path of a regular file, or of none yet',
  })
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  if (stats.isFIFO()) return 'a pipe'
  return stats.isSocket() ? 'a socket' : 'not a file'
}

async function replaceFile(path: string, content: string | Uint8Array, mode?: number): Promise<void> {
  // Loaded here: every command imports this module through the config, few write a file.
  const {randomBytes} = await import('node:crypto')
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeFile(temp, content, mode === undefined ? undefined : {mode})
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
}

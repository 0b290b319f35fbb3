import {rename, rm, stat, writeFile} from 'node:fs/promises'
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
  await assertDirectoryFor(path, flag)
  try {
    await replaceFile(path, content, mode)
  } catch (error) {
    // Said of the file the user named, not of the temporary file beside it.
    const reason = filesystemReason(error)
    if (reason) throw new OperationError(`cannot write ${flag} ${path}`, reason.phrase, {hint: reason.hint})
    throw error
  }
}

/** Checked before the work as well, so that a typo fails at once, not after a run. */
export async function assertDirectoryFor(path: string, flag: string): Promise<void> {
  const dir = dirname(resolve(path))
  const found = await stat(dir).catch((error: NodeJS.ErrnoException) => error)
  if (found instanceof Error) {
    const why = found.code === 'ENOENT' ? `directory ${dir} does not exist` : `cannot use directory ${dir}: ${found.code ?? found.message}`
    throw new UsageError(`cannot write ${flag} ${path}`, why, {hint: 'cimops creates no directories for the files you name: check the path, or create it first'})
  }
  if (!found.isDirectory()) throw new UsageError(`cannot write ${flag} ${path}`, `${dir} is not a directory`)
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

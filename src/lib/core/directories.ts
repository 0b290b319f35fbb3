import {mkdir, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'

/**
 * `mkdir -p` that always ends. Node's own (`mkdir(path, {recursive: true})`) retries the parent for ever
 * where mkdir(2) answers ENOENT although the parent exists, as it does under /proc: a `--dir` there hung
 * the command at full CPU. Here each missing directory is made once, from the top; any error is thrown.
 */
export async function makeDirectories(path: string, mode?: number): Promise<void> {
  const notADirectory = () => Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), {code: 'ENOTDIR', syscall: 'mkdir', path: resolve(path)})
  const missing: string[] = []
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const found = await stat(dir).catch((error: NodeJS.ErrnoException) => error)
    if (!(found instanceof Error)) {
      if (found.isDirectory()) break
      throw notADirectory()
    }
    if (found.code === 'ENOTDIR') throw notADirectory()
    if (found.code !== 'ENOENT') throw found
    missing.push(dir)
    if (dirname(dir) === dir) break
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir, {mode})
    } catch (error) {
      // Made meanwhile by another process: that is what was asked for, if it is a directory.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw error
    }
  }
}

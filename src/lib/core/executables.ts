import {accessSync, constants, statSync} from 'node:fs'
import {join} from 'node:path'

type Env = Record<string, string | undefined>

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The directories of PATH, in order. */
export function pathDirectories(env: Env = process.env, platform: NodeJS.Platform = process.platform): string[] {
  return (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter((dir) => dir !== '')
}

/** Full path of the first executable `program` on PATH, found without running anything. */
export function findOnPath(program: string, env: Env = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const name = platform === 'win32' ? `${program}.exe` : program
  return pathDirectories(env, platform)
    .map((dir) => join(dir, name))
    .find((candidate) => isExecutableFile(candidate))
}

import {readFile} from 'node:fs/promises'

import {ConfigError} from '../../core/errors.js'
import {registerSecret} from '../../core/redact.js'

/** Reads a one-line secret from a file (trimmed) and registers it for redaction before anything can print it. */
export async function readSecretFile(file: string, what: string, key: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError(`cannot read the ${what} file ${file}`, code === 'ENOENT' ? 'no such file' : code, {hint: `check notifiers.${key} in the context`})
  }
  const secret = text.trim()
  registerSecret(secret)
  if (secret === '') throw new ConfigError(`the ${what} file ${file} is empty`, `expected the ${what}`, {hint: `check notifiers.${key} in the context`})
  return secret
}

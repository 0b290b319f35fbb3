/**
 * The command-line tools of the server set under test (CIMOPS_SERVERS): amtool and promtool come from the
 * same package as the servers the sandbox runs, so a cross-check reads what that very version writes.
 * PATH's amtool is Debian 12's, whatever set runs.
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {findServerBinary} from '../../src/lib/sandbox/index.js'

export type ServerTool = 'amtool' | 'promtool'

/** Path of the set's tool; a ConfigError naming the set when it is not there. */
export function serverTool(tool: ServerTool): string {
  return findServerBinary(tool)
}

/** Runs the set's tool, bounded in time; rejects on a non-zero exit with its stderr in the message. */
export async function runServerTool(tool: ServerTool, args: readonly string[], timeoutMs = 10_000): Promise<{stdout: string; stderr: string}> {
  return promisify(execFile)(serverTool(tool), [...args], {timeout: timeoutMs})
}

/** `amtool <args> -o json` against one Alertmanager, parsed. */
export async function amtoolJson<T>(alertmanagerUrl: string, args: readonly string[]): Promise<T> {
  const {stdout} = await runServerTool('amtool', [`--alertmanager.url=${alertmanagerUrl}`, ...args, '-o', 'json'])
  return JSON.parse(stdout) as T
}

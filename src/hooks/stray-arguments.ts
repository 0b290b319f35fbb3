import {Errors, type Hook} from '@oclif/core'

/**
 * With spaces between topic and command, oclif reads `cimops health-check nats` as a command `health-check:nats`
 * when health-check takes no arguments, and answers "command health-check:nats not found" with exit 2. This runs
 * the command the leading words name with the rest as its arguments, so that its parser refuses them as any other
 * command refuses an argument too many: exit 64, naming them. bin/run.js installs it for cimops' own commands.
 */
export const runWithStrayArguments: Hook<'command_not_found'> = async function ({argv = [], config, id}) {
  const words = id.split(':')
  for (let end = words.length - 1; end > 0; end--) {
    const command = words.slice(0, end).join(':')
    if (config.findCommand(command)) return config.runCommand(command, [...words.slice(end), ...argv])
  }
  throw new Errors.CLIError(`command ${id} not found`)
}

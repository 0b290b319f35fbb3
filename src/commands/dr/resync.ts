import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import type {ResyncResult} from '../../lib/dr/resync.js'

export default class DrResync extends BaseCommand<typeof DrResync> {
  static summary = 'Bring the old primary back as the mirror of the new one, without losing the events only it holds: prints the procedure'
  static description = `Run it against the old primary's site (--context) after \`cimops dr promote\` made another site the primary (--from-context).
NATS cannot turn a diverged stream back into a mirror: a mirror only asks for the sequences after its own last one, and after a failover the old origin and the promoted copy can hold different events at the same sequence. So the old site is re-seeded: export the events only it holds, back up and delete its stream, create it again as a mirror of the new primary, and wait until it has caught up.
This command changes nothing. It reads both sites, finds the last sequence both hold alike (same subject and time) and so the events only the old site holds, and prints the procedure as numbered, exact commands for these contexts and streams (--json: the steps). With --exported-to it checks that the export file is whole and holds those events (exit 65 when it does not) and marks the export done.
The new primary's stream is the one marked as promoted from STREAM (see \`cimops dr promote\`), or --promoted-stream.
Exit codes: 0 the procedure; 2 a stream does not exist; 64 bad usage, or the new primary cannot be told; 65 the export file is incomplete or does not hold the events; 69 a site unreachable; 75 timed out.`
  static examples = [
    {description: 'What to do to bring the old primary back', command: '<%= config.bin %> dr resync EVENTS --context sandbox --from-context sandbox-dr'},
    {description: 'After exporting, check the export and get the remaining steps', command: '<%= config.bin %> dr resync EVENTS --context sandbox --from-context sandbox-dr --exported-to EVENTS-only-at-sandbox.jsonl.gz'},
    {description: 'The steps for a script', command: '<%= config.bin %> dr resync EVENTS --context prod --from-context prod-dr --json'},
  ]
  static args = {stream: Args.string({description: "the old primary's stream, at --context", required: true})}
  static flags = {
    'from-context': Flags.string({required: true, summary: 'The context of the new primary (where the stream was promoted).'}),
    'promoted-stream': Flags.string({summary: 'The promoted stream at the new primary [default: the one marked as promoted from STREAM].'}),
    'exported-to': Flags.string({summary: 'A replay file (cimops replay --to-file) that should hold the events only the old site has: checked.'}),
    'export-file': Flags.string({summary: 'The file the printed export step writes [default: <STREAM>-only-at-<context>.jsonl.gz].'}),
  }

  async run(): Promise<ResyncResult> {
    const [{planResync}, {renderResync}] = await Promise.all([import('../../lib/dr/resync.js'), import('../../lib/dr/resync-render.js')])
    const ctx = await this.context()
    if (!ctx.name) throw new UsageError('no context for the old primary', 'the printed commands name it', {hint: "pass --context with the old primary's context"})
    const fromName = this.flags['from-context']
    const from = await this.natsAt(await this.otherContext(fromName), {name: 'cimops-dr-resync'})
    const result = await planResync(ctx, {
      stream: this.args.stream,
      oldContext: ctx.name,
      nats: await this.nats(),
      from: {context: fromName, session: from},
      promotedStream: this.flags['promoted-stream'],
      exportedTo: this.flags['exported-to'],
      exportFile: this.flags['export-file'],
    })
    this.print(renderResync(result, this.style))
    return result
  }
}

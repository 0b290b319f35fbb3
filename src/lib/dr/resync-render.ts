import type {Style} from '../core/output/style.js'
import type {ResyncResult} from './resync.js'

/** The procedure: what each site holds, then numbered steps with the exact command under each. */
export function renderResync(result: ResyncResult, style: Style): string {
  const {oldSite} = result
  const domain = result.newPrimaryDomain ? `, domain ${result.newPrimaryDomain}` : ''
  const lines = [
    `Resync ${result.stream} at context ${result.oldContext} (old primary) from ${result.promotedStream} at context ${result.fromContext} (new primary${domain}). Nothing was changed: run these steps.`,
    `Old site: ${result.stream} holds sequences ${oldSite.firstSeq}-${oldSite.lastSeq} (${oldSite.messages} events), ${oldSite.fenced ? `fenced (its subjects were ${oldSite.subjects.join(', ')})` : style.status('WARNING', `NOT fenced (subjects ${oldSite.subjects.join(', ') || 'none'})`)}.`,
  ]
  const only = result.onlyAtOldSite
  if (!only) lines.push(`The new primary holds every event of the old site (common up to sequence ${result.commonUpTo}): nothing to export.`)
  else {
    const exported = result.exported ? `; exported to ${result.exported.file} (checked)` : ''
    lines.push(`Common with ${result.promotedStream} up to sequence ${result.commonUpTo}; only the old site holds up to ${only.events} event${only.events === 1 ? '' : 's'} (sequences ${only.fromSeq}-${only.toSeq})${exported}.`)
  }
  for (const warning of result.warnings) lines.push(style.status('WARNING', `warning: ${warning}`))
  lines.push('Steps:')
  result.steps.forEach((step, i) => {
    lines.push(`  ${i + 1}. ${step.what}${step.done ? ' [done]' : ''}`)
    if (step.command) lines.push(`     ${style.accent(`$ ${step.command}`)}`)
  })
  return lines.join('\n')
}

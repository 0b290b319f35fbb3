import type {Style} from '../core/output/style.js'
import {describeLacking, type PromotionPlan, type PromotionResult} from './promote.js'

const SUBJECTS_FROM: Record<PromotionPlan['subjectsFrom'], string> = {
  flag: 'from --subjects',
  origin: "the origin's",
  'fence-marker': 'the origin had them before it was fenced',
  default: 'the origin could not say: all of CIM',
}

function originName(plan: Pick<PromotionPlan, 'origin'>): string {
  return plan.origin.domain ? `${plan.origin.stream}@${plan.origin.domain}` : plan.origin.stream
}

/** The plan, shown before the question (and as the whole output of --dry-run). */
export function renderPromotionPlan(plan: PromotionPlan, style: Style, options: {dryRun: boolean}): string {
  const fenceLine = plan.fence.action === 'unreachable' || plan.fence.action === 'skip' ? style.status('WARNING', plan.fence.reason) : plan.fence.reason
  const lines = [
    `${options.dryRun ? '[dry run] ' : ''}Promote ${plan.stream} (mirror of ${originName(plan)}) to the writable event stream:`,
    `  mode:          ${plan.mode === 'update' ? 'in place' : `new stream ${plan.promotedStream}`} (${plan.modeReason})`,
    `  subjects:      ${plan.subjects.join(', ')} (${SUBJECTS_FROM[plan.subjectsFrom]})`,
    `  old primary:   ${plan.fence.target}: ${fenceLine}`,
    `  copy lacks:    ${describeLacking(plan.lacking)}`,
    'Steps:',
    ...plan.steps.map((step, i) => `  ${i + 1}. ${step}`),
  ]
  for (const warning of plan.warnings.filter((w) => w !== plan.fence.reason)) lines.push(style.status('WARNING', `warning: ${warning}`))
  return lines.join('\n')
}

export function renderPromotion(result: PromotionResult, style: Style): string {
  const where = result.mode === 'update' ? 'in place' : `as new stream ${result.promotedStream} (${result.stream} kept as evidence)`
  const lines = [
    style.status('OK', `Promoted ${result.stream} ${where}: ${result.promotedStream} is writable on ${result.subjects.join(', ')}.`),
    result.fenced.done ? `Old primary ${result.fenced.target}: fenced (its subjects taken away).` : style.status('WARNING', `Old primary ${result.fenced.target}: ${result.fenced.reason}`),
    `Events the copy lacked: ${describeLacking(result.lacking)}.`,
  ]
  if (result.opsLog?.recorded) lines.push(`Recorded in this site's ops log (seq ${result.opsLog.seq}).`)
  else if (result.opsLog) lines.push(style.status('WARNING', `Not recorded in the ops log: ${result.opsLog.error}`))
  return lines.join('\n')
}

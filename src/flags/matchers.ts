import {Flags} from '@oclif/core'

import type {MatcherMode} from '../lib/alerts/matchers.js'

/** The grammar flag of the commands that take Alertmanager matchers (alerts list, history, silence add). */
export const MATCHER_FLAGS = {
  'strict-matchers': Flags.boolean({
    summary: "Refuse what Alertmanager 0.27+'s UTF-8 matcher parser refuses (its strict mode), instead of reading it as its default fallback mode does, with a warning.",
  }),
}

export function matcherMode(flags: {'strict-matchers'?: boolean}): MatcherMode {
  return flags['strict-matchers'] ? 'strict' : 'fallback'
}

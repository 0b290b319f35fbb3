// The CLI's entry, imported by bin/run.js: it gives core the implementations core declares but must not
// import (the NATS adapter, the audit recorder), each loaded on first use, then hands over to oclif.
import {provideAuditHook} from './lib/core/audit-hook.js'
import {provideNatsSessionOpener} from './lib/core/nats-session.js'

provideNatsSessionOpener(async () => (await import('./lib/adapters/nats/session.js')).openNatsSession)
provideAuditHook(async () => (await import('./lib/audit/recorder.js')).auditCommand)

export {execute} from '@oclif/core'
export {runWithStrayArguments} from './hooks/stray-arguments.js'

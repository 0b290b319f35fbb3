/** Local sandbox of real servers (nats-server, Prometheus, Alertmanager) for `cimops sandbox`, the demo and tests. */
export {findServerBinary, installCommand, natsServerAtLeast, serverBinaryVersion, serverSetFrom, serverSetVersions, serversCacheDir} from './binaries.js'
export {restartProcess, sandboxDown, sandboxStatus, sandboxUp, stopProcess} from './sandbox.js'
export {catchUpSandbox, seedSandbox} from './seed.js'
export {addScrapeTarget, removeScrapeTarget} from './targets.js'
export {defaultSandboxDir, readSandboxState} from './state.js'
export type {NatsServerBinary} from './binaries.js'
export {describeServers} from './render.js'
export {DEFAULT_SERVER_SET, SANDBOX_COMPONENTS, SERVER_SETS} from './types.js'
export type {
  CatchUpOptions,
  CatchUpResult,
  ProcessStatus,
  PrometheusHistory,
  SandboxComponent,
  SandboxOptions,
  SandboxProcess,
  SandboxState,
  SeedConsumer,
  SeedMirror,
  SeedOptions,
  SeedResult,
  ServerExecutable,
  ServerComponent,
  ServerSet,
} from './types.js'

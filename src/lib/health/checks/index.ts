import type {HealthCheck} from '../runner.js'
import {alertmanagerCheck} from './alertmanager.js'
import {consumersCheck} from './consumers.js'
import {gpuCheck} from './gpu.js'
import {jetstreamCheck} from './jetstream.js'
import {natsCheck} from './nats.js'
import {prometheusCheck} from './prometheus.js'
import {replicationCheck} from './replication.js'
import {streamsCheck} from './streams.js'
import {systemCheck} from './system.js'

/** Every health check, in report order. Each imports its adapters only when it runs. */
export const ALL_CHECKS: HealthCheck[] = [natsCheck, jetstreamCheck, streamsCheck, consumersCheck, replicationCheck, prometheusCheck, alertmanagerCheck, systemCheck, gpuCheck]

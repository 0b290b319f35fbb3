#!/usr/bin/env node
// Development entry point: runs the TypeScript sources through tsx (oclif registers it when present).
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})

#!/usr/bin/env node
// The `waymark` command. The collector is TypeScript, run through tsx's loader so there is no
// build step to forget: what is in the clone is what runs.
import { register } from 'tsx/esm/api'

register()
await import('../collector/cli/main.ts')

import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { createApp } from './app'
import type { RateLimits } from './ingest/admission'
import { groupCommit } from './ingest/group-commit'
import { loadSnippetAsset } from './snippet-asset'
import { DEFAULT_CONFIG, type WaymarkConfig } from './stages/config'
import { openSqliteStore } from './store/sqlite'
import type { Store, StoredEvent } from './store/types'

export interface RunningCollector {
  url: string
  port: number
  store: Store
  /** Stops taking requests, commits what was accepted, and closes the database. */
  close(): Promise<void>
}

export interface CollectorOptions {
  port: number
  host?: string
  dbPath: string
  journeys?: WaymarkConfig
  /** Rate limits per client address and per site (default DEFAULT_RATE_LIMITS; 0 turns one off). */
  limits?: RateLimits
  trustProxy?: boolean
  maxPendingEvents?: number
  maxLoopLagMs?: number
  log?: (message: string) => void
}

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const store = openSqliteStore(options.dbPath, {
    config: options.journeys,
    onRebuild: (reason) => options.log?.(`${reason}: recomputing sessions and stages from the stored events`),
  })
  const commits = groupCommit<StoredEvent>((events) => store.appendEvents(events))
  const app = createApp({ store, commits, snippet: await loadSnippetAsset(), config: options.journeys ?? DEFAULT_CONFIG, limits: options.limits, trustProxy: options.trustProxy, maxPendingEvents: options.maxPendingEvents, maxLoopLagMs: options.maxLoopLagMs })
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(started))
    started.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    url: `http://localhost:${port}`,
    port,
    store,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((done) => {
          server.close(() => done())
          ;(server as { closeIdleConnections?: () => void }).closeIdleConnections?.()
        })
        await commits.drain()
        await store.close()
      })()),
  }
}

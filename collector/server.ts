import { serve } from '@hono/node-server'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hookProblem } from './alerts/hooks'
import { startAlertWorker, type AlertWorkerOptions } from './alerts/worker'
import { createApp } from './app'
import { reportsHere, reportThreads } from './reports/threads'
import type { RateLimits } from './ingest/admission'
import { groupCommit } from './ingest/group-commit'
import { applyRetention, RETENTION_EVERY_MS } from './retention'
import { loadDashboardAsset, loadSnippetAsset } from './snippet-asset'
import { DEFAULT_CONFIG, type WaymarkConfig } from './stages/config'
import { isClickHouse, openStore } from './store/open'
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
  /** A clickhouse:// URL: the store is ClickHouse, shared with other collectors (SQLite when absent). */
  storeUrl?: string
  journeys?: WaymarkConfig
  /** Rate limits per client address and per site (default DEFAULT_RATE_LIMITS; 0 turns one off). */
  limits?: RateLimits
  trustProxy?: boolean
  maxPendingEvents?: number
  maxLoopLagMs?: number
  dropBots?: boolean
  /** Stage alerts' delivery: poll interval, timeout, backoff (defaults in ALERT_DEFAULTS). */
  alerts?: AlertWorkerOptions
  /** Reports of a SQLite file run on threads of their own: at most this many at once (default DEFAULT_REPORT_THREADS). */
  reportThreads?: number
  /** The heap each report thread may use, in MB (default defaultReportHeapMb). */
  reportHeapMb?: number
  /** This machine's clock, which a ClickHouse store's shared clock is kept against (tests set one that is off). */
  localClock?: () => number
  log?: (message: string) => void
}

/** How long a stop waits for open connections to finish their requests. */
const STOP_GRACE_MS = 5000

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const store = await openStore(options, {
    config: options.journeys,
    localClock: options.localClock,
    onRebuild: (reason) => options.log?.(`${reason}: recomputing sessions and stages from the stored events`),
  })
  const config = options.journeys ?? DEFAULT_CONFIG
  const commits = groupCommit<StoredEvent>((events) => store.appendEvents(events))
  const lifecycle = { stopping: false }
  // A file's reports run beside intake, not in its way; ClickHouse's are the server's work.
  const reports =
    isClickHouse(options) || options.dbPath === ':memory:'
      ? reportsHere(store, config)
      : reportThreads(store, config, options.dbPath, { threads: options.reportThreads, heapMb: options.reportHeapMb })
  const app = createApp({
    store, commits, lifecycle, snippet: await loadSnippetAsset(), dashboard: await loadDashboardAsset(), config,
    limits: options.limits, trustProxy: options.trustProxy, maxPendingEvents: options.maxPendingEvents, maxLoopLagMs: options.maxLoopLagMs,
    dropBots: options.dropBots, reports,
  })
  const server = await new Promise<Server>((resolve, reject) => {
    // serve() makes a node:http server unless told to make another kind.
    const started = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(started as Server)) as Server
    started.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  const retain = () =>
    applyRetention(store).then(
      (done) => done.forEach(({ domain, deleted }) => options.log?.(`retention: deleted ${deleted} events of ${domain} past its retention`)),
      (error) => console.error('waymark: deleting events past retention failed; trying again in an hour:', error),
    )
  // On ClickHouse the processor deletes what retention ends, once for every collector.
  if (!isClickHouse(options)) void retain()
  const retention = isClickHouse(options) ? undefined : setInterval(retain, RETENTION_EVERY_MS).unref()
  for (const hook of await store.listAlertHooks()) {
    const problem = hookProblem(config, hook)
    if (problem) options.log?.(problem)
  }
  // On ClickHouse the processor queues and sends alerts, once for every collector.
  const alerts = isClickHouse(options) ? { stop: async () => {} } : startAlertWorker(store, config, options.alerts, options.log)
  let closing: Promise<void> | undefined
  return {
    url: `http://localhost:${port}`,
    port,
    store,
    close: () =>
      (closing ??= (async () => {
        // New requests, even on open keep-alive connections, get 503 and Connection: close; those
        // already taken finish. A client that holds a connection open past the grace time is cut off.
        lifecycle.stopping = true
        clearInterval(retention)
        // Alerts cut off here are due again at the next start; those queued meanwhile wait for it.
        const alertsStopped = alerts.stop()
        const grace = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS)
        await new Promise<void>((done) => {
          server.close(() => done())
          server.closeIdleConnections()
        })
        clearTimeout(grace)
        await reports.close()
        await commits.drain()
        await alertsStopped
        await store.close()
      })()),
  }
}

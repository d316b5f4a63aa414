// The ClickHouse lines of `npm run bench`: intake through three collectors against one, bytes on
// disk per event in both engines, and report latency on both, all on a real clickhouse-server.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runReport } from '../collector/reports'
import { addSite } from '../collector/sites'
import { DEFAULT_CONFIG } from '../collector/stages/config'
import { openClickHouseStore } from '../collector/store/clickhouse'
import { connectClickHouse } from '../collector/store/clickhouse/connection'
import { runProcessor } from '../collector/store/clickhouse/processor'
import { openSqliteStore } from '../collector/store/sqlite'
import type { Store } from '../collector/store/types'
import { freePort, startWaymark } from '../test/browser/processes'
import { startClickHouse } from '../test/clickhouse/server'
import { generateTraffic } from '../test/fixtures/traffic'
import { EVENTS_PER_BATCH, load, tagRequests } from './intake'

export interface ClickHouseBench {
  oneCollector: number
  threeCollectors: number
  sqliteBytesPerEvent: number
  clickhouseBytesPerEvent: number
  /** The `arrivals` copy, which holds only the last month or two. */
  arrivalsBytesPerEvent: number
  events: number
  reports: { name: string; sqliteMs: number; clickhouseMs: number }[]
}

/** Events/s acknowledged by `collectors` collectors on one ClickHouse, the connections spread evenly over them. */
async function intake(storeUrl: string, siteId: string, collectors: number, seconds: number): Promise<number> {
  const env = { ...process.env, WAYMARK_RATE_PER_ADDRESS: '0', WAYMARK_RATE_PER_SITE: '0', WAYMARK_MAX_LAG_MS: '0' }
  const running = []
  const ports: number[] = []
  for (let i = 0; i < collectors; i++) {
    ports.push(await freePort())
    running.push(await startWaymark(['--port', String(ports[i]), '--host', '127.0.0.1', '--store', storeUrl], env))
  }
  try {
    const results = await Promise.all(ports.map((port) => load(port, tagRequests(siteId), seconds, Math.round(32 / collectors))))
    return results.reduce((n, r) => n + r['2xx'], 0) * EVENTS_PER_BATCH / seconds
  } finally {
    for (const c of running) await c.stop()
  }
}

export async function benchClickHouse(seconds: number, visitors: number): Promise<ClickHouseBench> {
  const clickhouse = await startClickHouse()
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-clickhouse-'))
  try {
    // Intake: one collector, then three, on fresh databases of the same server.
    const figures: number[] = []
    for (const [database, collectors] of [['one', 1], ['three', 3]] as const) {
      const store = await openClickHouseStore(clickhouse.storeUrl(database))
      const { site } = await addSite(store, 'localhost')
      await store.close()
      figures.push(await intake(clickhouse.storeUrl(database), site.id, collectors, seconds))
    }

    // The same generated history in both engines: bytes on disk, then reports once sessions are folded.
    const sqlitePath = join(dir, 'waymark.db')
    const sqlite = openSqliteStore(sqlitePath)
    const storeUrl = clickhouse.storeUrl('history')
    const ch = await openClickHouseStore(storeUrl)
    const { site } = await addSite(sqlite, 'example.com')
    await ch.addSite(site)
    const { events } = generateTraffic({ siteId: site.id, visitors, seed: 8, start: Date.UTC(2026, 8, 1) })
    const stamped = events.map((e) => ({ ...e, receivedAt: Date.now() }))
    for (let i = 0; i < stamped.length; i += 5000) {
      await sqlite.appendEvents(stamped.slice(i, i + 5000))
      await ch.appendEvents(stamped.slice(i, i + 5000))
    }
    const stop = new AbortController()
    const processor = runProcessor({ storeUrl, workPath: join(dir, 'processor.db'), signal: stop.signal })
    await Promise.all([sqlite.settle(), ch.settle()])
    stop.abort()
    await processor
    await sqlite.close()
    const sqliteBytes = ['', '-wal'].reduce((n, suffix) => n + (statSync(sqlitePath + suffix, { throwIfNoEntry: false })?.size ?? 0), 0)
    const raw = connectClickHouse(storeUrl)
    const bytesOf = async (table: string) => {
      await raw.exec(`OPTIMIZE TABLE history.${table} FINAL`)
      return (await raw.rows<{ bytes: number }>(`SELECT sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = 'history' AND table = '${table}' AND active`))[0].bytes
    }
    const bytes = await bytesOf('events')
    // The processor's copy of the last month or two, by time received: here, every event.
    const arrivalsBytes = await bytesOf('arrivals')
    await raw.close()

    const reopened = openSqliteStore(sqlitePath, { checkJourneys: false })
    const reports = []
    for (const name of ['funnel', 'sources', 'content', 'paths']) {
      const time = async (store: Store) => {
        const started = performance.now()
        await runReport(store, DEFAULT_CONFIG, site.id, name, { from: '2026-09-01', to: '2026-10-20' }, Date.UTC(2026, 9, 20))
        return performance.now() - started
      }
      reports.push({ name, sqliteMs: await time(reopened), clickhouseMs: await time(ch) })
    }
    await reopened.close()
    await ch.close()
    return {
      oneCollector: figures[0],
      threeCollectors: figures[1],
      events: events.length,
      sqliteBytesPerEvent: sqliteBytes / events.length,
      clickhouseBytesPerEvent: bytes / events.length,
      arrivalsBytesPerEvent: arrivalsBytes / events.length,
      reports,
    }
  } finally {
    await clickhouse.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}


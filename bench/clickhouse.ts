// The ClickHouse lines of `npm run bench`: intake through three collectors against one, bytes on
// disk per event in both engines, and report latency on both, all on a real clickhouse-server.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runReport } from '../collector/reports'
import { addSite } from '../collector/sites'
import { DEFAULT_CONFIG } from '../collector/stages/config'
import { openClickHouseStore } from '../collector/store/clickhouse'
import { connectClickHouse } from '../collector/store/clickhouse/connection'
import { openSqliteStore } from '../collector/store/sqlite'
import type { Store } from '../collector/store/types'
import { freePort, startWaymark } from '../test/browser/processes'
import { startClickHouse } from '../test/clickhouse/server'
import { generateTraffic } from '../test/fixtures/traffic'
import { EVENTS_PER_BATCH, load, SERVER_NODE_ARGS, tagRequests } from './intake'

const BIN = fileURLToPath(new URL('../bin/waymark.js', import.meta.url))

export interface ClickHouseBench {
  oneCollector: number
  threeCollectors: number
  sqliteBytesPerEvent: number
  clickhouseBytesPerEvent: number
  /** The `arrivals` copy, which holds only the last month or two. */
  arrivalsBytesPerEvent: number
  events: number
  /** Days the generated history spans. */
  days: number
  /** Loading both engines, s; then SQLite's rebuild of sessions and stages, s; then the processor's fold of the whole backlog, from its start until settle() returns, s. */
  loadSeconds: number
  sqliteRebuildSeconds: number
  foldSeconds: number
  reports: { name: string; sqliteMs: number; clickhouseMs: number }[]
}

/** `waymark process` in a process of its own, as an operator runs it. */
async function startProcessor(storeUrl: string, workPath: string) {
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, BIN, 'process', '--store', storeUrl, '--work', workPath], { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    exited: () => child.exitCode !== null,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
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

/** Visitors in each generated month of traffic; a larger history is more such months, each starting a few days after the last. */
const VISITORS_PER_CHUNK = 20_000
const CHUNK_STEP_DAYS = 3
const HISTORY_START = Date.UTC(2025, 10, 1)
const DAY = 86_400_000

export async function benchClickHouse(seconds: number, targetEvents: number): Promise<ClickHouseBench> {
  const clickhouse = await startClickHouse()
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-clickhouse-'))
  let processor: Awaited<ReturnType<typeof startProcessor>> | undefined
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
    // Both are loaded first; then SQLite rebuilds its sessions and stages in one go (what keeping
    // them current at ingest would reach, sooner), and then the processor, in a process of its own,
    // folds the backlog as one taking over a history does. One after the other: on two cores,
    // side by side, each slowed the other by an amount that changed from run to run.
    const sqlitePath = join(dir, 'waymark.db')
    const sqlite = openSqliteStore(sqlitePath, { maintainJourneys: false })
    const storeUrl = clickhouse.storeUrl('history')
    const ch = await openClickHouseStore(storeUrl)
    const { site } = await addSite(sqlite, 'example.com')
    await ch.addSite(site)
    let events = 0
    let last = HISTORY_START
    const loading = performance.now()
    for (let chunk = 0; events < targetEvents; chunk++) {
      const start = HISTORY_START + chunk * CHUNK_STEP_DAYS * DAY
      const generated = generateTraffic({ siteId: site.id, visitors: VISITORS_PER_CHUNK, seed: 8 + chunk, start }).events
      for (let i = 0; i < generated.length; i += 5000) {
        const slice = generated.slice(i, i + 5000)
        await sqlite.appendEvents(slice)
        const receivedAt = Date.now()
        await ch.appendEvents(slice.map((e) => ({ ...e, receivedAt })))
      }
      events += generated.length
      for (const e of generated) last = Math.max(last, e.occurredAt)
    }
    const loadSeconds = (performance.now() - loading) / 1000
    const rebuilding = performance.now()
    await sqlite.rebuild()
    const rebuildSeconds = (performance.now() - rebuilding) / 1000
    const folding = performance.now()
    processor = await startProcessor(storeUrl, join(dir, 'processor.db'))
    // settle() gives up after a minute; a large history takes the processor longer than that.
    for (;;) {
      try {
        await ch.settle()
        break
      } catch (error) {
        if (processor.exited()) throw error
      }
    }
    const foldSeconds = (performance.now() - folding) / 1000
    await processor.stop()
    processor = undefined
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
    // The whole history, as of the day after its last event.
    const end = new Date(last + DAY).toISOString().slice(0, 10)
    for (const name of ['funnel', 'sources', 'content', 'paths']) {
      const time = async (store: Store) => {
        const started = performance.now()
        await runReport(store, DEFAULT_CONFIG, site.id, name, { from: new Date(HISTORY_START).toISOString().slice(0, 10), to: end }, Date.parse(end))
        return performance.now() - started
      }
      reports.push({ name, sqliteMs: await time(reopened), clickhouseMs: await time(ch) })
    }
    await reopened.close()
    await ch.close()
    return {
      oneCollector: figures[0],
      threeCollectors: figures[1],
      events,
      days: Math.ceil((last - HISTORY_START) / DAY),
      loadSeconds,
      sqliteRebuildSeconds: rebuildSeconds,
      foldSeconds,
      sqliteBytesPerEvent: sqliteBytes / events,
      clickhouseBytesPerEvent: bytes / events,
      arrivalsBytesPerEvent: arrivalsBytes / events,
      reports,
    }
  } finally {
    await processor?.stop()
    await clickhouse.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}


import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { eventFromValues, STORED_EVENT_COLUMNS } from '../sqlite/event-rows'
import { openSqliteStore } from '../sqlite'
import { connectClickHouse, sqlNumber, sqlString } from './connection'
import { eventRow, openClickHouseStore } from './index'
import { readLease } from './schema'

/** Events copied per insert: large enough for ClickHouse to like the parts, small enough to resume often. */
const CHUNK_ROWS = 20_000

export interface MigrateOptions {
  /** The SQLite database to copy from. */
  dbPath: string
  /** clickhouse://host:8123/database to copy to. */
  storeUrl: string
  chunkRows?: number
  /** Stops after the chunk in progress (the next run resumes there). */
  signal?: AbortSignal
  log?: (message: string) => void
}

export interface MigrateResult {
  sites: number
  /** Events copied by this run (a resumed run copies only the rest). */
  copied: number
  /** Per site: events in SQLite, and in ClickHouse after the copy. */
  counts: { siteId: string; domain: string; sqlite: number; clickhouse: number }[]
  complete: boolean
}

/**
 * `waymark migrate --to clickhouse://…`: copies an SQLite installation's sites and events to
 * ClickHouse (with their alert hooks and alerts), in chunks, recording in ClickHouse how far it got so an interrupted run resumes
 * there (an event copied twice is stored once anyway: the event id is in the sort key). Then it
 * checks each site's event count on both sides, and asks the processor to fold every event again,
 * so sessions, people and stages are computed from the history too.
 */
export async function migrateToClickHouse(options: MigrateOptions): Promise<MigrateResult> {
  const log = options.log ?? (() => {})
  const source = resolve(options.dbPath)
  if (!existsSync(source)) throw new Error(`no SQLite database at ${source}: give the one to copy with --db`)
  const sqlite = new Database(source, { readonly: true, fileMustExist: true })
  const target = await openClickHouseStore(options.storeUrl)
  const ch = connectClickHouse(options.storeUrl)
  const db = ch.target.database
  try {
    const sites = (sqlite.prepare('SELECT id FROM sites').pluck().all() as string[])
    // Sites first: as the SQLite store reads them, written as any collector writes them.
    const reader = openSqliteStore(source, { checkJourneys: false, maintainJourneys: false })
    for (const site of await reader.listSites()) if (!(await target.findSite(site.id))) await target.addSite(site)
    // Stage alert hooks, and the alerts queued and sent so far: the processor's fold of the history
    // then finds each entry's alert already queued, and alerts no entry a second time.
    const hooks = new Set((await target.listAlertHooks()).map((hook) => hook.id))
    for (const hook of await reader.listAlertHooks()) if (!hooks.has(hook.id)) await target.addAlertHook(hook)
    await reader.close()
    for (const table of ['alert_outbox', 'alert_deliveries']) {
      // Whole milliseconds: an older Waymark kept a delivery's time with a fraction.
      const rows = (sqlite.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]).map((row) =>
        Object.fromEntries([...Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v]), ['_version', 1], ['_deleted', 0]]),
      )
      for (let i = 0; i < rows.length; i += CHUNK_ROWS) await ch.insert(table, rows.slice(i, i + CHUNK_ROWS))
    }

    const progress = async () =>
      (await ch.rows<{ last_rowid: number }>(`SELECT last_rowid FROM ${db}.migration_progress FINAL WHERE source = ${sqlString(source)}`))[0]?.last_rowid ?? 0
    let after = await progress()
    if (after) log(`resuming after row ${after} of ${source}`)
    const page = sqlite.prepare(`SELECT rowid, ${STORED_EVENT_COLUMNS.join(', ')} FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?`).raw(true)
    const chunk = options.chunkRows ?? CHUNK_ROWS
    let copied = 0
    let complete = true
    for (;;) {
      if (options.signal?.aborted) {
        complete = false
        break
      }
      const rows = page.all(after, chunk) as (string | number | null)[][]
      if (!rows.length) break
      await ch.insert('events', rows.map((values) => eventRow(eventFromValues(values.slice(1)))))
      after = rows[rows.length - 1][0] as number
      copied += rows.length
      await ch.insert('migration_progress', [{ source, last_rowid: after, _version: Date.now() * 1000 + (copied % 1000) }])
      log(`copied ${copied} events (up to row ${after})`)
    }

    // Events collectors wrote to ClickHouse meanwhile (received after the SQLite history) are not counted.
    const lastReceived = (sqlite.prepare('SELECT max(received_at) FROM events').pluck().get() as number | null) ?? 0
    const counts = []
    for (const siteId of sites) {
      const inSqlite = sqlite.prepare('SELECT count(*) FROM events WHERE site_id = ?').pluck().get(siteId) as number
      const [{ n }] = await ch.rows<{ n: number }>(
        `SELECT count() AS n FROM ${db}.events FINAL WHERE site_id = ${sqlString(siteId)} AND kind != 'page_engagement' AND received_at <= ${sqlNumber(lastReceived)}`,
      )
      const domain = (await target.findSite(siteId))!.domain
      counts.push({ siteId, domain, sqlite: inSqlite, clickhouse: n })
    }
    if (complete) {
      // The processor folds what it receives from now on; this makes it fold everything again.
      const lease = await readLease(ch)
      await ch.insert('processor', [{ name: 'main', holder: 'waymark migrate', expires_at: 0, watermark: 0, _version: Math.max(Date.now() * 1000, (lease?._version ?? 0) + 1) }])
    }
    return { sites: sites.length, copied, counts, complete }
  } finally {
    sqlite.close()
    await target.close()
    await ch.close()
  }
}


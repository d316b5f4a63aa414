import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { RETENTION_EVERY_MS } from '../../retention'
import { DEFAULT_CONFIG, type WaymarkConfig } from '../../stages/config'
import type { Site } from '../types'
import { openSqliteStore } from '../sqlite'
import { STORED_EVENT_COLUMNS } from '../sqlite/event-rows'
import { connectClickHouse, sqlNumber, type ClickHouse } from './connection'
import { eventFromRow, openClickHouseStore } from './index'
import { ensureSchema, MIRRORED_TABLES, type MirroredTable } from './schema'

/**
 * How far behind its own clock the processor reads: events received in the last moment may still
 * be on their way into ClickHouse (a collector batches for a few milliseconds, then inserts).
 */
const READ_LAG_MS = 1000
/**
 * Each pass reads again this far before the last watermark, for an insert that was slow to land
 * or a collector whose clock is a little behind; events already folded are skipped by id.
 */
const OVERLAP_MS = 10_000
/** How long the lease lasts without renewal: a processor that dies is replaced after this. */
const LEASE_MS = 15_000
/** Between passes when there was nothing new. */
const IDLE_MS = 250
/** Events folded per pass at most, while catching up. */
const FOLD_BATCH = 50_000
/** Rows of derived tables published per insert. */
const PUBLISH_ROWS = 5000

export interface ProcessorOptions {
  storeUrl: string
  /** The processor's working SQLite file: its fold of the events, published to ClickHouse. */
  workPath: string
  config?: WaymarkConfig
  signal?: AbortSignal
  log?: (message: string) => void
}

interface Lease {
  holder: string
  expires_at: number
  watermark: number
  _version: number
}

/**
 * `waymark process`: folds the events every collector writes to ClickHouse into sessions, people,
 * companies and journey stages, and publishes those to ClickHouse for every collector to read.
 *
 * It runs Waymark's own SQLite store as its working fold, so sessions, identity merges and stage
 * transitions follow exactly the rules (and the code) of a single SQLite collector, in whatever
 * order events arrive. Triggers in the working file note every derived row that changes; each
 * pass publishes those rows (or a tombstone for a removed one) under a version higher than any
 * before, and ClickHouse's ReplacingMergeTree keeps the latest of each.
 *
 * One processor is active at a time, under a lease in ClickHouse renewed every pass. One that
 * takes over from another processor (not its own earlier run) folds every event again from the
 * start, then publishes its whole state and removes whatever the other published that it does not hold.
 */
export async function runProcessor(options: ProcessorOptions): Promise<void> {
  const log = options.log ?? (() => {})
  const ch = connectClickHouse(options.storeUrl)
  await ensureSchema(ch)
  const work = openWorkingFold(options.workPath, options.config ?? DEFAULT_CONFIG)
  const shared = await openClickHouseStore(options.storeUrl, { config: options.config })
  let retainedAt = 0
  /** Retention, once for every collector: the events in ClickHouse, and the working file's copy. */
  const retain = async () => {
    retainedAt = Date.now()
    for (const site of await shared.listSites()) {
      if (!site.retentionDays) continue
      const before = retainedAt - site.retentionDays * 86_400_000
      const deleted = await shared.deleteEventsBefore(site.id, before)
      await work.deleteEventsBefore(site.id, before)
      if (deleted) log(`retention: deleted ${deleted} events of ${site.domain} past its retention`)
    }
  }
  try {
    let held = false
    const step = async () => {
      const lease = await takeLease(ch, work.holder)
      if (!lease) {
        if (held) log('waymark process: another processor holds the lease now; waiting')
        held = false
        return sleep(LEASE_MS / 3, options.signal)
      }
      if (!held) {
        held = true
        if (lease.fromOther) {
          log('waymark process: taking over from another processor: folding every event again')
          await work.reset()
        }
        log('waymark process: holding the lease; folding events as they arrive')
      }
      await work.syncSites(await shared.listSites())
      if (Date.now() - retainedAt > RETENTION_EVERY_MS) await retain()
      if (!(await pass(ch, work, lease.version))) await sleep(IDLE_MS, options.signal)
    }
    while (!options.signal?.aborted) {
      try {
        await step()
      } catch (error) {
        // ClickHouse away for a moment, say: nothing is lost, as the watermark has not moved.
        log(`waymark process: a pass failed; trying again in a second: ${(error as Error).stack ?? error}`)
        await sleep(1000, options.signal)
      }
    }
  } finally {
    await work.close()
    await shared.close()
    await ch.close()
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

/** Takes or renews the lease; undefined while another processor's is still valid. */
async function takeLease(ch: ClickHouse, holder: string): Promise<{ version: number; fromOther: boolean } | undefined> {
  const current = await readLease(ch)
  const now = Date.now()
  if (current && current.holder !== holder && current.expires_at > now) return
  // Versions only grow: a new holder's rows must replace what an earlier one published, whatever the clocks say.
  const version = Math.max(now * 1000, (current?._version ?? 0) + 1)
  await ch.insert('processor', [{ name: 'main', holder, expires_at: now + LEASE_MS, watermark: current?.watermark ?? 0, _version: version }])
  // Two that tried at once both read back the same winner.
  const won = await readLease(ch)
  if (won?.holder !== holder) return
  // Another processor (or `waymark migrate`, having copied history in) wrote the lease last: fold everything again.
  return { version, fromOther: Boolean(current && current.holder !== holder) }
}

const readLease = async (ch: ClickHouse) =>
  (await ch.rows<Lease>(`SELECT holder, expires_at, watermark, _version FROM ${ch.target.database}.processor FINAL WHERE name = 'main'`))[0]

/**
 * One pass: the events received since the watermark (and the overlap before it) that are not
 * folded yet go into the working store; what that changed is published; the watermark moves on.
 * Returns whether there was anything new.
 */
async function pass(ch: ClickHouse, work: WorkingFold, leaseVersion: number): Promise<boolean> {
  const db = ch.target.database
  const since = Math.max(0, work.watermark() - OVERLAP_MS)
  let until = Date.now() - READ_LAG_MS
  // Catching up (a new processor, or one that was down), a pass takes a batch of events at a time.
  const [batchEnd] = await ch.rows<{ received_at: number }>(
    `SELECT received_at FROM ${db}.events WHERE received_at >= ${sqlNumber(since)} AND received_at < ${sqlNumber(until)} ORDER BY received_at LIMIT 1 OFFSET ${FOLD_BATCH}`,
  )
  if (batchEnd && batchEnd.received_at > work.watermark()) until = batchEnd.received_at
  const rows = await ch.rows<Record<string, unknown>>(
    `SELECT ${STORED_EVENT_COLUMNS.join(', ')} FROM ${db}.events WHERE received_at >= ${sqlNumber(since)} AND received_at < ${sqlNumber(until)}`,
  )
  const fresh = work.unfolded(rows.map(eventFromRow))
  if (fresh.length) await work.fold(fresh)
  // takeLease has just read back this lease as ours, at this version: every published row goes above it.
  let version = leaseVersion + 1
  for (;;) {
    const changes = work.changes(PUBLISH_ROWS)
    if (!changes.length) break
    const byTable = new Map<MirroredTable, object[]>()
    for (const change of changes) (byTable.get(change.table) ?? byTable.set(change.table, []).get(change.table)!).push({ ...change.row, _version: version, _deleted: change.deleted ? 1 : 0 })
    for (const [table, rows] of byTable) await ch.insert(table, rows)
    work.published(changes)
    version++
  }
  work.advance(until)
  // The watermark is published last: a reader that sees it sees everything folded before it.
  await ch.insert('processor', [{ name: 'main', holder: work.holder, expires_at: Date.now() + LEASE_MS, watermark: until, _version: version }])
  if (work.sweepPending()) await sweep(ch, work, version)
  return fresh.length > 0 || Boolean(batchEnd)
}

/**
 * After a takeover, once the fold has caught up: tombstones every published row that this
 * processor's fold does not hold (one the other published from an event since erased, say).
 */
async function sweep(ch: ClickHouse, work: WorkingFold, version: number) {
  for (const [table, keys] of Object.entries(MIRRORED_TABLES) as [MirroredTable, readonly string[]][]) {
    const published = await ch.rows<Record<string, string | number>>(
      `SELECT ${keys.join(', ')} FROM (SELECT ${keys.join(', ')}, _deleted FROM ${ch.target.database}.${table} FINAL) WHERE _deleted = 0`,
    )
    const gone = published.filter((row) => !work.holds(table, keys.map((k) => row[k])))
    for (let i = 0; i < gone.length; i += PUBLISH_ROWS)
      await ch.insert(table, gone.slice(i, i + PUBLISH_ROWS).map((row) => ({ ...row, _version: version, _deleted: 1 })))
  }
  work.swept()
}

type WorkingFold = ReturnType<typeof openWorkingFold>

/**
 * The processor's SQLite file: Waymark's SQLite store holding its fold of the events, with
 * triggers that note each derived row that changes, until it is published.
 */
function openWorkingFold(path: string, config: WaymarkConfig) {
  let store = openSqliteStore(path, { config })
  let db = new Database(path)
  const prepare = () => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS processor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS folded (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS folded_by_time ON folded (received_at);
      CREATE TABLE IF NOT EXISTS unpublished (tbl TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
    `)
    for (const [table, keys] of Object.entries(MIRRORED_TABLES)) {
      const key = (row: 'NEW' | 'OLD') => `json_array(${keys.map((k) => `${row}.${k}`).join(', ')})`
      // Not OR IGNORE: an upsert's own conflict clause would override it inside the trigger.
      const note = (row: 'NEW' | 'OLD') =>
        `INSERT INTO unpublished (tbl, key) SELECT '${table}', ${key(row)} WHERE NOT EXISTS (SELECT 1 FROM unpublished WHERE tbl = '${table}' AND key = ${key(row)});`
      db.exec(`
        CREATE TRIGGER IF NOT EXISTS publish_${table}_insert AFTER INSERT ON ${table} BEGIN ${note('NEW')} END;
        CREATE TRIGGER IF NOT EXISTS publish_${table}_update AFTER UPDATE ON ${table} BEGIN ${note('OLD')} ${note('NEW')} END;
        CREATE TRIGGER IF NOT EXISTS publish_${table}_delete AFTER DELETE ON ${table} BEGIN ${note('OLD')} END;
      `)
    }
    db.prepare("INSERT OR IGNORE INTO processor_meta (key, value) VALUES ('holder', ?)").run(`processor:${randomUUID()}`)
  }
  prepare()
  const meta = (key: string) => db.prepare('SELECT value FROM processor_meta WHERE key = ?').pluck().get(key) as string | undefined
  const setMeta = (key: string, value: string) =>
    db.prepare('INSERT INTO processor_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  const holder = meta('holder')!
  const rowOf = (table: MirroredTable, key: unknown[]) =>
    db.prepare(`SELECT * FROM ${table} WHERE ${MIRRORED_TABLES[table].map((k) => `${k} = ?`).join(' AND ')}`).get(...key) as Record<string, unknown> | undefined

  return {
    holder,
    watermark: () => Number(meta('watermark') ?? 0),
    sweepPending: () => meta('sweep') === 'pending' && Number(meta('watermark') ?? 0) >= Number(meta('sweep_after') ?? 0),
    swept: () => db.prepare("DELETE FROM processor_meta WHERE key IN ('sweep', 'sweep_after')").run(),
    holds: (table: MirroredTable, key: unknown[]) => rowOf(table, key) !== undefined,
    advance(until: number) {
      setMeta('watermark', String(until))
      db.prepare('DELETE FROM folded WHERE received_at < ?').run(until - 2 * OVERLAP_MS)
    },
    /** The events not folded yet, each once. */
    unfolded(events: ReturnType<typeof eventFromRow>[]) {
      const seen = db.prepare('SELECT 1 FROM folded WHERE id = ?').pluck()
      const fresh = new Map<string, ReturnType<typeof eventFromRow>>()
      for (const e of events) if (!fresh.has(e.id) && !seen.get(e.id)) fresh.set(e.id, e)
      return [...fresh.values()]
    },
    /** Sites as the collectors know them: a journey change recomputes every site of the working file. */
    async syncSites(sites: Site[]) {
      for (const site of sites) if (!(await store.findSite(site.id))) await store.addSite(site)
    },
    deleteEventsBefore: (siteId: string, before: number) => store.deleteEventsBefore(siteId, before),
    async fold(events: ReturnType<typeof eventFromRow>[]) {
      // A page view copied from SQLite carries its engagement; the working store takes it as the tag's report.
      const engagements = events
        .filter((e) => e.kind === 'pageview' && (e.scrollDepth != null || e.engagedMs != null))
        .map((e) => ({ ...e, id: `${e.id}:engagement`, kind: 'page_engagement' as const, name: e.id, props: { scrollDepth: e.scrollDepth ?? 0, engagedMs: e.engagedMs ?? 0 } }))
      await store.appendEvents([...events, ...engagements])
      const mark = db.prepare('INSERT OR IGNORE INTO folded (id, received_at) VALUES (?, ?)')
      db.transaction(() => events.forEach((e) => mark.run(e.id, e.receivedAt)))()
      await store.settle()
    },
    /** Up to `limit` derived rows changed since they were last published: the row as it is, or a tombstone of its key. */
    changes(limit: number) {
      const noted = db.prepare('SELECT tbl, key FROM unpublished LIMIT ?').all(limit) as { tbl: MirroredTable; key: string }[]
      return noted.map(({ tbl, key }) => {
        const values = JSON.parse(key) as (string | number)[]
        const row = rowOf(tbl, values)
        const keyRow = Object.fromEntries(MIRRORED_TABLES[tbl].map((k, i) => [k, values[i]]))
        return { table: tbl, key, row: row ?? keyRow, deleted: !row }
      })
    },
    published(changes: { table: string; key: string }[]) {
      const done = db.prepare('DELETE FROM unpublished WHERE tbl = ? AND key = ?')
      db.transaction(() => changes.forEach((c) => done.run(c.table, c.key)))()
    },
    /** Starts the fold again from nothing, keeping this processor's identity. */
    async reset() {
      await store.close()
      db.close()
      for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true })
      store = openSqliteStore(path, { config })
      db = new Database(path)
      prepare()
      setMeta('holder', holder)
      // Once caught up with what was received by now.
      setMeta('sweep', 'pending')
      setMeta('sweep_after', String(Date.now()))
    },
    async close() {
      await store.close()
      db.close()
    },
  }
}


import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { RETENTION_EVERY_MS } from '../../retention'
import { DEFAULT_CONFIG, type WaymarkConfig } from '../../stages/config'
import { startAlertWorker, type AlertWorkerOptions } from '../../alerts/worker'
import type { AlertHookStatus, Erasure, PersonRef, Site, StoredEvent } from '../types'
import { openSqliteStore } from '../sqlite'
import { STORED_EVENT_COLUMNS } from '../sqlite/event-rows'
import { connectClickHouse, sqlList, sqlNumber, sqlString, type ClickHouse } from './connection'
import { eventFromRow, openClickHouseStore } from './index'
import { ARRIVALS_KEPT_MS, deleteRows, dropOldArrivals, ensureSchema, MIRRORED_TABLES, publishedColumns, readLease, type MirroredTable } from './schema'

/**
 * How far behind the shared clock the processor reads: events received in the last moment may
 * still be on their way into ClickHouse (a collector batches for a few milliseconds, then inserts).
 */
const READ_LAG_MS = 1000
/**
 * Each pass reads again this far before the last watermark, for an insert that was slow to land
 * or a collector whose estimate of the shared clock is a little behind; events already folded are
 * skipped by id.
 */
const OVERLAP_MS = 10_000
/**
 * An insert may land later still (a collector stalled, ClickHouse slow to answer). Every so often
 * the processor counts the events of each minute of this window in ClickHouse and in its fold,
 * and folds what a minute is missing. Later than this, an event stays stored but unfolded.
 */
const RECONCILE_WINDOW_MS = 15 * 60_000
const RECONCILE_EVERY_MS = 30_000
/** How long the lease lasts without renewal: a processor that dies is replaced after this. */
const LEASE_MS = 15_000
/** Between passes when there was nothing new. */
const IDLE_MS = 250
/** Events folded per pass at most, while catching up. */
const FOLD_BATCH = 50_000
/** Rows of derived tables published per insert. */
const PUBLISH_ROWS = 5000
/** Events read and stored per chunk while a fold starts from nothing, and derived rows per insert as it publishes them. */
const BULK_ROWS = 20_000
/**
 * How long the lease is renewed for, per event, before a fold from nothing rebuilds sessions and
 * stages (the rebuild holds the thread, so nothing renews it meanwhile): about five times what a
 * rebuild took here (30 to 37 s a million events). A standby waits that long if the processor dies then.
 */
const REBUILD_ALLOWANCE_MS = 0.2

export interface ProcessorOptions {
  storeUrl: string
  /** The processor's working SQLite file: its fold of the events, published to ClickHouse. */
  workPath: string
  config?: WaymarkConfig
  /** How often events that landed after their pass are looked for (default 30 s). */
  reconcileEveryMs?: number
  /** How stage alerts are sent (polling, timeouts, retries), as for a collector. */
  alerts?: AlertWorkerOptions
  /** This machine's clock, which the shared clock is kept against (tests set one that is off). */
  localClock?: () => number
  signal?: AbortSignal
  log?: (message: string) => void
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
  const config = options.config ?? DEFAULT_CONFIG
  const work = openWorkingFold(options.workPath, config)
  // Its clock is the one the collectors stamp events by: the watermark, the lease and the
  // requests' times are all read from it, whatever this machine's own clock says.
  const shared = await openClickHouseStore(options.storeUrl, { config: options.config, localClock: options.localClock })
  const clock = () => shared.now()
  let retainedAt = 0
  let reconciledAt = Date.now()
  /** Retention, once for every collector: the events in ClickHouse, and the working file's copy. */
  const retain = async () => {
    retainedAt = Date.now()
    await dropOldArrivals(ch, retainedAt)
    for (const site of await shared.listSites()) {
      if (!site.retentionDays) continue
      const before = retainedAt - site.retentionDays * 86_400_000
      const deleted = await shared.deleteEventsBefore(site.id, before)
      await work.deleteEventsBefore(site.id, before)
      if (deleted) log(`retention: deleted ${deleted} events of ${site.domain} past its retention`)
    }
  }
  let held = false
  let lastVersion = 0
  /** Stage alerts go out from the fold's outbox, only while this processor holds the lease. */
  let alerts: { stop(): Promise<unknown> } | undefined
  const stopAlerts = async () => {
    await alerts?.stop()
    alerts = undefined
  }
  try {
    const step = async () => {
      const lease = await takeLease(ch, work.holder, clock())
      if (!lease) {
        if (held) log('waymark process: another processor holds the lease now; waiting')
        held = false
        await stopAlerts()
        return sleep(LEASE_MS / 3, options.signal)
      }
      if (!held) {
        held = true
        if (lease.fromOther) {
          log('waymark process: taking over from another processor: folding every event again')
          await stopAlerts()
          await work.reset(clock())
          // The alerts queued and sent so far, so that the refold alerts no stage entry a second time.
          for (const table of ['alert_outbox', 'alert_deliveries'] as const)
            work.restore(table, await ch.rows(`SELECT * FROM (SELECT * FROM ${ch.target.database}.${table} FINAL) WHERE _deleted = 0`))
        }
        log('waymark process: holding the lease; folding events as they arrive')
      }
      await work.syncSites(await shared.listSites())
      const hooks = await shared.listAlertHooks()
      await work.syncHooks(hooks)
      const versions = versionsAbove(lease.version)
      // Renews the lease; its row carries the highest version used, so whatever publishes next starts above it.
      const renewLease = async (forMs = 0) => {
        lastVersion = versions.next()
        await writeLease(ch, work, lastVersion, clock() + LEASE_MS + Math.ceil(forMs))
      }
      if (!work.watermark()) {
        // A fold that starts from nothing (a new processor, or one taking over) folds what is there
        // in one go. Entries folded so alert nobody: with hooks, only what the last holder had
        // folded, and so alerted, goes that way; the rest is folded pass by pass, as it arrives.
        // One interrupted is done again to the same moment.
        const until = work.bulkUntil() ?? Math.min(clock() - READ_LAG_MS, hooks.length ? lease.previousWatermark : Infinity)
        if (until > 0) {
          await stopAlerts()
          const started = Date.now()
          const events = await foldInBulk(ch, work, versions, until, renewLease)
          if (events) log(`waymark process: folded the ${events} events received so far in one go, and published what they make, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
        }
      }
      alerts ??= startAlertWorker(work.store, config, options.alerts, log)
      if (Date.now() - retainedAt > RETENTION_EVERY_MS) await retain()
      // One interrupted (a crash, ClickHouse away) is finished before anything new is folded.
      await finishErasure(ch, work, versions, log)
      if (Date.now() - reconciledAt > (options.reconcileEveryMs ?? RECONCILE_EVERY_MS)) {
        reconciledAt = Date.now()
        const late = await reconcile(ch, work)
        if (late) log(`waymark process: folded ${late} events whose insert landed after their pass`)
      }
      const folded = await pass(ch, work, versions, clock, renewLease)
      const served = await serveRequests(ch, work, versions, log)
      await renewLease()
      if (!folded && !served) await sleep(IDLE_MS, options.signal)
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
    // Stopped on purpose: a standby (or the next start) need not wait for the lease to run out,
    // and collectors asking for an erasure learn at once that no processor runs.
    if (held) await writeLease(ch, work, Math.max(clock() * 1000, lastVersion + 1), 0).catch(() => {})
  } finally {
    await stopAlerts()
    await work.close()
    await shared.close()
    await ch.close()
  }
}

/** Waits, or less when stopped. The listener goes with the wait: a processor sleeps between most passes, for days. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const stop = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop)
      resolve()
    }, ms)
    signal?.addEventListener('abort', stop, { once: true })
  })

/** Takes or renews the lease; undefined while another processor's is still valid. */
async function takeLease(ch: ClickHouse, holder: string, now: number): Promise<{ version: number; fromOther: boolean; previousWatermark: number } | undefined> {
  const current = await readLease(ch)
  if (current && current.holder !== holder && current.expires_at > now) return
  // Versions only grow: a new holder's rows must replace what an earlier one published, whatever the clocks say.
  const version = Math.max(now * 1000, (current?._version ?? 0) + 1)
  await ch.insert('processor', [{ name: 'main', holder, expires_at: now + LEASE_MS, watermark: current?.watermark ?? 0, _version: version }])
  // Two that tried at once both read back the same winner.
  const won = await readLease(ch)
  if (won?.holder !== holder) return
  // Another processor (or `waymark migrate`, having copied history in) wrote the lease last: fold everything again.
  return { version, fromOther: Boolean(current && current.holder !== holder), previousWatermark: current?.watermark ?? 0 }
}

/** Published versions, each higher than the last, starting above the lease's (and so above any earlier holder's). */
const versionsAbove = (leaseVersion: number) => {
  let version = leaseVersion
  return { next: () => ++version }
}
type Versions = ReturnType<typeof versionsAbove>

/** Renews the lease and publishes the watermark: a reader that sees it sees everything folded before it. */
const writeLease = (ch: ClickHouse, work: WorkingFold, version: number, expiresAt: number) =>
  ch.insert('processor', [{ name: 'main', holder: work.holder, expires_at: expiresAt, watermark: work.watermark(), _version: version }])

/**
 * One pass: the events received since the watermark (and the overlap before it) that are not
 * folded yet go into the working store; what that changed is published; the watermark moves on.
 * Returns whether there was anything new.
 */
async function pass(ch: ClickHouse, work: WorkingFold, versions: Versions, clock: () => number, renewLease: () => Promise<void>): Promise<boolean> {
  const db = ch.target.database
  const since = Math.max(0, work.watermark() - OVERLAP_MS)
  let until = clock() - READ_LAG_MS
  const table = receivedSince(since)
  // Catching up (a new processor, or one that was down), a pass takes a batch of events at a time.
  const [batchEnd] = await ch.rows<{ received_at: number }>(
    `SELECT received_at FROM ${db}.${table} WHERE received_at >= ${sqlNumber(since)} AND received_at < ${sqlNumber(until)} ORDER BY received_at LIMIT 1 OFFSET ${FOLD_BATCH}`,
  )
  if (batchEnd && batchEnd.received_at > work.watermark()) until = batchEnd.received_at
  const rows = await ch.rows<Record<string, unknown>>(
    `SELECT ${STORED_EVENT_COLUMNS.join(', ')} FROM ${db}.${table} WHERE received_at >= ${sqlNumber(since)} AND received_at < ${sqlNumber(until)}`,
  )
  const fresh = work.unfolded(rows.map(eventFromRow))
  if (fresh.length) await work.fold(fresh)
  await publish(ch, work, versions)
  work.advance(until)
  // The watermark is published last: a reader that sees it sees everything folded before it.
  await renewLease()
  if (work.sweepPending()) await sweep(ch, work, versions.next())
  return fresh.length > 0 || Boolean(batchEnd)
}

/**
 * Folds every event received before `until` in one go, for a fold that starts from nothing: the
 * events are stored without keeping sessions current, sessions and stages are rebuilt once (on two
 * threads, as `waymark rebuild` does), and every derived row is published whole, a table at a time.
 * Pass by pass, a backlog of a million events took several minutes, each pass refolding its
 * visitors and publishing row by row. Returns how many events it folded. Stopped part way, it
 * starts again: events stored before are skipped by id.
 */
async function foldInBulk(ch: ClickHouse, work: WorkingFold, versions: Versions, until: number, renewLease: (forMs?: number) => Promise<void>): Promise<number> {
  await work.beginBulk(until)
  // In the order they were received, as passes would have folded them (ClickHouse sorts on disk past its memory limit).
  const chunks = ch.stream<Record<string, unknown>>(
    `SELECT ${STORED_EVENT_COLUMNS.join(', ')} FROM ${ch.target.database}.events FINAL WHERE received_at < ${sqlNumber(until)} ORDER BY received_at, id`,
    BULK_ROWS,
  )
  let events = 0
  for await (const rows of chunks) {
    await work.storeInBulk(rows.map(eventFromRow), until)
    events += rows.length
    await renewLease()
  }
  // The rebuild holds this thread to its end, so the lease is renewed for as long as it may take first.
  await renewLease(events * REBUILD_ALLOWANCE_MS)
  await work.rebuildAll()
  // One insert under way while the next rows are read: ClickHouse parses them in a process of its own.
  let inserting: Promise<void> = Promise.resolve()
  for (const table of Object.keys(MIRRORED_TABLES) as MirroredTable[]) {
    for (const rows of work.allRows(table, BULK_ROWS)) {
      const version = versions.next()
      const published = rows.map((row) => ({ ...row, _version: version, _deleted: 0 }))
      await inserting
      inserting = ch.insert(table, published)
      // Awaited before the next insert or at the end; marked handled now, so a failure meanwhile is not an unhandled rejection.
      inserting.catch(() => {})
      await renewLease()
    }
  }
  await inserting
  work.endBulk(until)
  await renewLease()
  return events
}

/**
 * Where to read the events received since a moment: `arrivals` (sorted by that time) for the
 * recent past it holds, `events` (a scan of every row) only to fold again from further back.
 */
const receivedSince = (since: number) => (since > Date.now() - ARRIVALS_KEPT_MS + 86_400_000 ? 'arrivals' : 'events')

/**
 * Folds the events of the reconcile window that the passes missed (their insert landed after the
 * pass's overlap had moved on): a minute with more events in ClickHouse than in the fold is read
 * again, and what is not folded yet is folded. Returns how many events that was.
 */
async function reconcile(ch: ClickHouse, work: WorkingFold): Promise<number> {
  const db = ch.target.database
  const to = work.watermark() - OVERLAP_MS
  const from = Math.max(0, to - RECONCILE_WINDOW_MS)
  if (to <= 0) return 0
  const inFold = work.foldedPerMinute(from, to)
  const stored = await ch.rows<{ minute: number; n: number }>(
    `SELECT intDiv(received_at, 60000) AS minute, uniqExact(id) AS n FROM ${db}.${receivedSince(from)}
     WHERE received_at >= ${sqlNumber(from)} AND received_at < ${sqlNumber(to)} GROUP BY minute`,
  )
  let late = 0
  for (const { minute, n } of stored) {
    if (n <= (inFold.get(minute) ?? 0)) continue
    const start = Math.max(from, minute * 60_000)
    const end = Math.min(to, (minute + 1) * 60_000)
    const rows = await ch.rows<Record<string, unknown>>(
      `SELECT ${STORED_EVENT_COLUMNS.join(', ')} FROM ${db}.${receivedSince(start)} WHERE received_at >= ${sqlNumber(start)} AND received_at < ${sqlNumber(end)}`,
    )
    const missed = work.unfolded(rows.map(eventFromRow))
    if (missed.length) await work.fold(missed)
    late += missed.length
  }
  return late
}

/** Publishes every derived row changed in the fold since it was last published: the row as it is, or a tombstone. */
async function publish(ch: ClickHouse, work: WorkingFold, versions: Versions) {
  for (;;) {
    const changes = work.changes(PUBLISH_ROWS)
    if (!changes.length) return
    const version = versions.next()
    const byTable = new Map<MirroredTable, object[]>()
    for (const change of changes) (byTable.get(change.table) ?? byTable.set(change.table, []).get(change.table)!).push({ ...change.row, _version: version, _deleted: change.deleted ? 1 : 0 })
    for (const [table, rows] of byTable) await ch.insert(table, rows)
    work.published(changes)
  }
}

interface Request {
  id: string
  kind: string
  site_id: string
  body: string
  asked_at: number
}

/**
 * Carries out what collectors asked (erasures, rebuilds) once the fold holds every event
 * received before the request, so an erasure removes all that was acknowledged before it.
 */
async function serveRequests(ch: ClickHouse, work: WorkingFold, versions: Versions, log: (message: string) => void): Promise<boolean> {
  const pending = await ch.rows<Request>(
    `SELECT id, kind, site_id, body, asked_at FROM ${ch.target.database}.requests FINAL WHERE answered_at = 0 AND asked_at < ${sqlNumber(work.watermark())} ORDER BY asked_at, id`,
  )
  for (const request of pending) {
    if (request.kind === 'erase') {
      if (await work.beginErasure(request)) await finishErasure(ch, work, versions, log)
      else await answer(ch, request, { result: null })
    } else if (request.kind === 'rebuild') {
      const started = Date.now()
      const result = await work.rebuild(request.site_id || undefined)
      await publish(ch, work, versions)
      await answer(ch, request, { result })
      log(`rebuild: recomputed ${result.visitors} people and visitors of ${result.sites} site(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    } else {
      await answer(ch, request, { error: `"${request.kind}" is not a request this processor knows: run the same Waymark version for collectors and processor` })
    }
  }
  return pending.length > 0
}

const answer = (ch: ClickHouse, request: Request, outcome: { result: unknown } | { error: string }) =>
  ch.insert('requests', [{ ...request, answered_at: Date.now(), answer: JSON.stringify(outcome), _version: 2 }])

/** Keys per ALTER … DELETE: a statement of a few hundred kilobytes at most. */
const KEYS_PER_DELETE = 1000

/**
 * Finishes the erasure under way, if any. The fold has erased the person (or does it now); then,
 * in this order, so that a crash at any point is finished by the next pass: the tombstones are
 * published (readers stop seeing the person at once); their events are deleted from ClickHouse;
 * every earlier version of every erased row is deleted, tombstones included (a ReplacingMergeTree
 * keeps old versions until it merges, and an erasure may not wait for that); then the collector
 * gets its answer.
 */
async function finishErasure(ch: ClickHouse, work: WorkingFold, versions: Versions, log: (message: string) => void) {
  const erasure = await work.erasureUnderWay()
  if (!erasure) return
  const { request, site: siteId, email, userId } = erasure
  const site = sqlString(siteId)
  // Every version published before the erasure is below this one, and every version after it
  // above, across a crash too: old versions go, the erasure's tombstones and changed rows stay.
  const below = erasure.below ?? work.erasureVersion(versions.next())
  await publish(ch, work, versions)
  const events = work.erasedEvents()
  const theirs = `site_id = ${site} AND ((visitor_id IN ${sqlList(events.visitors)} AND id NOT IN ${sqlList(events.kept)}) OR id IN ${sqlList(events.elsewhere)})`
  for (const table of ['events', 'arrivals'] as const) await deleteRows(ch, table, theirs, true)
  for (const table of Object.keys(MIRRORED_TABLES) as MirroredTable[]) {
    // A removed row goes with its tombstone (its key names the person too); a rewritten one keeps its new version.
    for (const gone of [true, false]) {
      const keys = work.erasedKeys(table, gone)
      for (let i = 0; i < keys.length; i += KEYS_PER_DELETE) {
        const tuples = keys.slice(i, i + KEYS_PER_DELETE).map((key) => `(${key.map((v) => (typeof v === 'number' ? sqlNumber(v) : sqlString(v))).join(', ')})`)
        await deleteRows(ch, table, `(${MIRRORED_TABLES[table].join(', ')}) IN (${tuples.join(', ')}) AND (_version < ${below}${gone ? ' OR _deleted = 1' : ''})`, true)
      }
    }
  }
  // A person merged into this one earlier left rows under its own id that may still name them.
  const names = [email !== null && `email = ${sqlString(email)}`, userId !== null && `user_id = ${sqlString(userId)}`].filter(Boolean)
  if (names.length) await deleteRows(ch, 'people', `site_id = ${site} AND (${names.join(' OR ')}) AND _version < ${below}`, true)
  const result = work.erasureResult()
  await answer(ch, request, { result })
  work.erasureDone()
  log(`erasure: removed person ${result.personId} of site ${siteId}: ${result.events} events, ${result.sessions} sessions, ${result.visitorIds} browser ids`)
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

/** The working file's own tables and triggers; a file of another format is folded again from scratch. */
const WORK_FORMAT = 2

/** Removes a working file an older Waymark wrote: the processor then starts a new one, as a new holder, and refolds. */
function dropOlderFormat(path: string) {
  if (!existsSync(path)) return
  const file = new Database(path, { readonly: true })
  let format: string | null = null
  try {
    const isWorkingFile = file.prepare("SELECT 1 FROM sqlite_master WHERE name = 'processor_meta'").get()
    // Anything else (an empty file, say) is left alone.
    if (isWorkingFile) format = (file.prepare("SELECT value FROM processor_meta WHERE key = 'format'").pluck().get() as string | undefined) ?? 'first'
  } finally {
    file.close()
  }
  if (format !== null && format !== String(WORK_FORMAT)) removeDatabase(path)
}

/** An SQLite file with its write-ahead log and shared memory. */
const removeDatabase = (path: string) => {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true })
}

/**
 * The processor's SQLite file: Waymark's SQLite store holding its fold of the events, with
 * triggers that note each derived row that changes, until it is published.
 */
function openWorkingFold(path: string, config: WaymarkConfig) {
  dropOlderFormat(path)
  let store = openSqliteStore(path, { config })
  let db = new Database(path)
  const prepare = () => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS processor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS folded (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS folded_by_time ON folded (received_at);
      -- seq counts the changes since the row was noted: a change made while a publish is out
      -- (the alert worker runs beside the pass) keeps its note when that publish is done.
      CREATE TABLE IF NOT EXISTS unpublished (tbl TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
      -- What the erasure under way removed from the fold, to remove from ClickHouse in turn.
      CREATE TABLE IF NOT EXISTS erased_events (id TEXT PRIMARY KEY, visitor_id TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS erased_rows (tbl TEXT NOT NULL, key TEXT NOT NULL, gone INTEGER NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
      CREATE TRIGGER IF NOT EXISTS erased_events_note AFTER DELETE ON events WHEN EXISTS (SELECT 1 FROM processor_meta WHERE key = 'erasing')
        BEGIN INSERT OR IGNORE INTO erased_events (id, visitor_id) VALUES (OLD.id, OLD.visitor_id); END;
    `)
    for (const [table, keys] of Object.entries(MIRRORED_TABLES)) {
      const key = (row: 'NEW' | 'OLD') => `json_array(${keys.map((k) => `${row}.${k}`).join(', ')})`
      // Not OR IGNORE: an upsert's own conflict clause would override it inside the trigger.
      const note = (row: 'NEW' | 'OLD') =>
        `UPDATE unpublished SET seq = seq + 1 WHERE tbl = '${table}' AND key = ${key(row)};
         INSERT INTO unpublished (tbl, key, seq) SELECT '${table}', ${key(row)}, 0 WHERE NOT EXISTS (SELECT 1 FROM unpublished WHERE tbl = '${table}' AND key = ${key(row)});`
      db.exec(`
        CREATE TRIGGER IF NOT EXISTS publish_${table}_insert AFTER INSERT ON ${table} BEGIN ${note('NEW')} END;
        CREATE TRIGGER IF NOT EXISTS publish_${table}_update AFTER UPDATE ON ${table} BEGIN ${note('OLD')} ${note('NEW')} END;
        CREATE TRIGGER IF NOT EXISTS publish_${table}_delete AFTER DELETE ON ${table} BEGIN ${note('OLD')} END;
        CREATE TRIGGER IF NOT EXISTS erased_${table}_note AFTER DELETE ON ${table} WHEN EXISTS (SELECT 1 FROM processor_meta WHERE key = 'erasing')
          BEGIN INSERT OR REPLACE INTO erased_rows (tbl, key, gone) VALUES ('${table}', ${key('OLD')}, 1); END;
        -- A row rewritten without them (an alert's list of people, say): its versions naming them go too.
        CREATE TRIGGER IF NOT EXISTS erased_${table}_rewritten AFTER UPDATE ON ${table} WHEN EXISTS (SELECT 1 FROM processor_meta WHERE key = 'erasing')
          BEGIN INSERT INTO erased_rows (tbl, key, gone) SELECT '${table}', ${key('OLD')}, 0 WHERE NOT EXISTS (SELECT 1 FROM erased_rows WHERE tbl = '${table}' AND key = ${key('OLD')}); END;
      `)
    }
    db.prepare("INSERT OR IGNORE INTO processor_meta (key, value) VALUES ('holder', ?)").run(`processor:${randomUUID()}`)
    db.prepare("INSERT OR IGNORE INTO processor_meta (key, value) VALUES ('format', ?)").run(String(WORK_FORMAT))
  }
  prepare()
  const meta = (key: string) => db.prepare('SELECT value FROM processor_meta WHERE key = ?').pluck().get(key) as string | undefined
  const setMeta = (key: string, value: string) =>
    db.prepare('INSERT INTO processor_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  const holder = meta('holder')!
  // Prepared once per table: a publish looks up every changed row, and preparing was a tenth of a fold's time.
  const rowStatements = new Map<MirroredTable, Database.Statement>()
  const rowOf = (table: MirroredTable, key: unknown[]) => {
    let statement = rowStatements.get(table)
    if (!statement) rowStatements.set(table, (statement = db.prepare(`SELECT ${publishedColumns(table)} FROM ${table} WHERE ${MIRRORED_TABLES[table].map((k) => `${k} = ?`).join(' AND ')}`)))
    return statement.get(...key) as Record<string, unknown> | undefined
  }

  /** A page view copied from SQLite carries its engagement; the working store takes it as the tag's report. */
  const withEngagements = (events: StoredEvent[]) => [
    ...events,
    ...events
      .filter((e) => e.kind === 'pageview' && (e.scrollDepth != null || e.engagedMs != null))
      .map((e) => ({ ...e, id: `${e.id}:engagement`, kind: 'page_engagement' as const, name: e.id, props: { scrollDepth: e.scrollDepth ?? 0, engagedMs: e.engagedMs ?? 0 } })),
  ]
  const markFolded = (events: StoredEvent[]) => {
    const mark = db.prepare('INSERT OR IGNORE INTO folded (id, received_at) VALUES (?, ?)')
    db.transaction(() => events.forEach((e) => mark.run(e.id, e.receivedAt)))()
  }

  const fold = {
    holder,
    watermark: () => Number(meta('watermark') ?? 0),
    sweepPending: () => meta('sweep') === 'pending' && Number(meta('watermark') ?? 0) >= Number(meta('sweep_after') ?? 0),
    swept: () => db.prepare("DELETE FROM processor_meta WHERE key IN ('sweep', 'sweep_after')").run(),
    holds: (table: MirroredTable, key: unknown[]) => rowOf(table, key) !== undefined,
    advance(until: number) {
      setMeta('watermark', String(until))
      db.prepare('DELETE FROM folded WHERE received_at < ?').run(until - RECONCILE_WINDOW_MS - OVERLAP_MS)
    },
    /** How many events of each minute (ms since the epoch ÷ 60,000) in [from, to) the fold holds. */
    foldedPerMinute(from: number, to: number) {
      const rows = db.prepare('SELECT received_at / 60000 AS minute, count(*) AS n FROM folded WHERE received_at >= ? AND received_at < ? GROUP BY minute').all(from, to)
      return new Map((rows as { minute: number; n: number }[]).map((r) => [r.minute, r.n]))
    },
    /** The events not folded yet, each once. */
    unfolded(events: StoredEvent[]) {
      const seen = db.prepare('SELECT 1 FROM folded WHERE id = ?').pluck()
      const fresh = new Map<string, StoredEvent>()
      for (const e of events) if (!fresh.has(e.id) && !seen.get(e.id)) fresh.set(e.id, e)
      return [...fresh.values()]
    },
    /** Sites as the collectors know them: a journey change recomputes every site of the working file. */
    async syncSites(sites: Site[]) {
      for (const site of sites) if (!(await store.findSite(site.id))) await store.addSite(site)
    },
    deleteEventsBefore: (siteId: string, before: number) => store.deleteEventsBefore(siteId, before),
    /** The fold's store, for the alert worker (a new one after reset()). */
    get store() {
      return store
    },
    /** Alert hooks as collectors made and removed them. */
    async syncHooks(hooks: AlertHookStatus[]) {
      const live = new Set(hooks.map((hook) => hook.id))
      const held = await store.listAlertHooks()
      for (const hook of held) if (!live.has(hook.id)) await store.removeAlertHook(hook.id)
      const heldIds = new Set(held.map((hook) => hook.id))
      for (const { pending, delivered, gaveUp, lastDay, ...hook } of hooks) if (!heldIds.has(hook.id)) await store.addAlertHook(hook)
    },
    /** Rows published before (the alert outbox and its log, after a takeover), back into the fold as they were. */
    restore(table: 'alert_outbox' | 'alert_deliveries', rows: Record<string, unknown>[]) {
      if (!rows.length) return
      const columns = Object.keys(rows[0]).filter((c) => c !== '_version' && c !== '_deleted')
      const insert = db.prepare(`INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`)
      db.transaction(() => rows.forEach((row) => insert.run(row)))()
    },
    async fold(events: StoredEvent[]) {
      await store.appendEvents(withEngagements(events))
      markFolded(events)
      await store.settle()
    },
    /** The moment a fold from nothing that was interrupted folds to. */
    bulkUntil: () => (meta('bulk_until') === undefined ? undefined : Number(meta('bulk_until'))),
    /**
     * Starts a fold from nothing: events are stored with sessions and stages left for one rebuild,
     * and no row is noted as changed (every row is published whole at the end; noting each made the
     * rebuild of 151,102 events 6.5 s instead of 5.6). Stopped part way, the notes come back as the
     * file is opened again.
     */
    async beginBulk(until: number) {
      setMeta('bulk_until', String(until))
      for (const table of Object.keys(MIRRORED_TABLES))
        for (const change of ['insert', 'update', 'delete']) db.exec(`DROP TRIGGER IF EXISTS publish_${table}_${change}`)
      await store.close()
      store = openSqliteStore(path, { config, maintainJourneys: false, checkJourneys: false })
    },
    /** Stores events of a fold from nothing (those stored before are skipped). */
    async storeInBulk(events: StoredEvent[], until: number) {
      await store.appendEvents(withEngagements(events))
      // Only what the reconcile window may count needs marking.
      markFolded(events.filter((e) => e.receivedAt >= until - RECONCILE_WINDOW_MS - OVERLAP_MS))
    },
    /** Sessions and stages of every site, from the stored events, once; sessions kept current again after. */
    async rebuildAll() {
      await store.close()
      store = openSqliteStore(path, { config, checkJourneys: false })
      await store.rebuild()
    },
    /** Every row of a table, `limit` at a time, from a connection of its own (the fold's stays free between chunks). */
    *allRows(table: MirroredTable, limit: number) {
      const reader = new Database(path, { readonly: true })
      try {
        let rows: Record<string, unknown>[] = []
        for (const row of reader.prepare(`SELECT ${publishedColumns(table)} FROM ${table}`).iterate() as Iterable<Record<string, unknown>>) {
          rows.push(row)
          if (rows.length === limit) {
            yield rows
            rows = []
          }
        }
        if (rows.length) yield rows
      } finally {
        reader.close()
      }
    },
    /** Ends a fold from nothing: every row is published whole, so the notes of what changed go; the watermark moves to `until`. */
    endBulk(until: number) {
      db.transaction(() => {
        db.prepare('DELETE FROM unpublished').run()
        prepare()
        fold.advance(until)
        db.prepare("DELETE FROM processor_meta WHERE key = 'bulk_until'").run()
      })()
    },
    /** Up to `limit` derived rows changed since they were last published: the row as it is, or a tombstone of its key. */
    changes(limit: number) {
      const noted = db.prepare('SELECT tbl, key, seq FROM unpublished LIMIT ?').all(limit) as { tbl: MirroredTable; key: string; seq: number }[]
      return noted.map(({ tbl, key, seq }) => {
        const values = JSON.parse(key) as (string | number)[]
        const row = rowOf(tbl, values)
        const keyRow = Object.fromEntries(MIRRORED_TABLES[tbl].map((k, i) => [k, values[i]]))
        return { table: tbl, key, seq, row: row ?? keyRow, deleted: !row }
      })
    },
    published(changes: { table: string; key: string; seq: number }[]) {
      const done = db.prepare('DELETE FROM unpublished WHERE tbl = ? AND key = ? AND seq = ?')
      db.transaction(() => changes.forEach((c) => done.run(c.table, c.key, c.seq)))()
    },
    rebuild: (siteId?: string) => store.rebuild(siteId),
    /**
     * Erases a person from the fold, noting what went (triggers fill erased_events and
     * erased_rows while `erasing` is set); false when the fold knows no such person.
     */
    async beginErasure(request: { id: string; kind: string; site_id: string; body: string; asked_at: number }) {
      await store.settle()
      const ref = JSON.parse(request.body) as PersonRef
      const person = await store.findPerson(request.site_id, ref)
      if (!person) return false
      setMeta('erasure', JSON.stringify({ request, site: request.site_id, ref, email: person.email, userId: person.userId }))
      setMeta('erasing', '1')
      await store.erasePerson(request.site_id, ref)
      db.prepare("DELETE FROM processor_meta WHERE key = 'erasing'").run()
      // Their company's stages, recomputed without them, go out with the erasure.
      await store.settle()
      return true
    },
    /** The erasure begun and not finished, erased from the fold by now. */
    async erasureUnderWay() {
      const saved = meta('erasure')
      if (!saved) return
      const erasure = JSON.parse(saved) as {
        request: Parameters<WorkingFold['beginErasure']>[0]
        site: string
        ref: PersonRef
        email: string | null
        userId: string | null
        below?: number
      }
      // Interrupted before its commit, or just after it: erase (again), still noting what goes.
      if (meta('erasing')) {
        if (await store.findPerson(erasure.site, erasure.ref)) await store.erasePerson(erasure.site, erasure.ref)
        db.prepare("DELETE FROM processor_meta WHERE key = 'erasing'").run()
      }
      await store.settle()
      return erasure
    },
    /** Keeps the version that divides rows published before the erasure from those after it. */
    erasureVersion(below: number) {
      setMeta('erasure', JSON.stringify({ ...JSON.parse(meta('erasure')!), below }))
      return below
    },
    erasedKeys: (table: MirroredTable, gone: boolean) =>
      (db.prepare('SELECT key FROM erased_rows WHERE tbl = ? AND gone = ?').pluck().all(table, gone ? 1 : 0) as string[]).map((key) => JSON.parse(key) as (string | number)[]),
    /**
     * The erased events, as ClickHouse can select them: those of the person's browsers (less any
     * the fold kept: another person's identify that the shared-computer rule refused), and those
     * on other browsers that named them.
     */
    erasedEvents() {
      const visitors = db.prepare("SELECT json_extract(key, '$[1]') FROM erased_rows WHERE tbl = 'identities' AND gone = 1").pluck().all() as string[]
      const ofVisitors = 'visitor_id IN (SELECT value FROM json_each(?))'
      return {
        visitors,
        kept: db.prepare(`SELECT id FROM events WHERE ${ofVisitors}`).pluck().all(JSON.stringify(visitors)) as string[],
        elsewhere: db.prepare(`SELECT id FROM erased_events WHERE NOT ${ofVisitors}`).pluck().all(JSON.stringify(visitors)) as string[],
      }
    },
    /** What the erasure removed, as the SQLite store reports it. */
    erasureResult(): Erasure {
      const count = (table: string) => db.prepare('SELECT count(*) FROM erased_rows WHERE tbl = ? AND gone = 1').pluck().get(table) as number
      const person = db.prepare("SELECT json_extract(key, '$[1]') FROM erased_rows WHERE tbl = 'people' AND gone = 1").pluck().get() as string
      return { personId: person, visitorIds: count('identities'), events: db.prepare('SELECT count(*) FROM erased_events').pluck().get() as number, sessions: count('sessions') }
    },
    erasureDone() {
      db.transaction(() => {
        db.prepare("DELETE FROM processor_meta WHERE key IN ('erasure', 'erasing')").run()
        db.prepare('DELETE FROM erased_events').run()
        db.prepare('DELETE FROM erased_rows').run()
      })()
    },
    /** Starts the fold again from nothing, keeping this processor's identity. */
    async reset(now: number) {
      await store.close()
      db.close()
      removeDatabase(path)
      store = openSqliteStore(path, { config })
      db = new Database(path)
      rowStatements.clear()
      prepare()
      setMeta('holder', holder)
      // Once caught up with what was received by now.
      setMeta('sweep', 'pending')
      setMeta('sweep_after', String(now))
    },
    async close() {
      await store.close()
      db.close()
    },
  }
  return fold
}

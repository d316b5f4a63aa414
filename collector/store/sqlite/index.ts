import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { LIMITS } from '../../../shared/limits'
import { applyAlias, applyGroup, applyIdentify } from '../../identity/apply'
import type { IdentityGraph } from '../../identity/types'
import { DEFAULT_CONFIG, type WaymarkConfig } from '../../stages/config'
import type { PersonRef, Site, Store, StoredEvent } from '../types'
import { journeyMaintenance, type Owner } from './journeys'
import { sqliteAlerts } from './alerts'
import { sqliteIdentityGraph } from './identity-graph'
import { EVENT_COLUMNS, eventValues } from './event-rows'
import { MIGRATIONS } from './migrations'
import { rollupsOfFolds } from './rollups'
import { rowByRef, sqliteReads } from './reads'
import { foldsFromThread } from './fold-thread'
import { ownerFolds, type OwnerFold } from './owner-fold'

interface SiteRow {
  id: string
  domain: string
  write_key_hash: string
  read_token_hash: string
  admin_token_hash: string | null
  created_at: number
  retention_days: number | null
  honor_privacy_signals: number
}
const siteFromRow = (r: SiteRow): Site => ({
  id: r.id, domain: r.domain, writeKeyHash: r.write_key_hash, readTokenHash: r.read_token_hash, adminTokenHash: r.admin_token_hash,
  createdAt: r.created_at, retentionDays: r.retention_days, honorPrivacySignals: r.honor_privacy_signals === 1,
})

/**
 * The version of the rules that turn events into sessions, channels and stages. Raise it when
 * they change (a channel alias, how engaged time adds up), so a database's stored sessions and
 * stages are recomputed on its next start rather than mixing old answers with new.
 */
const DERIVATION_RULES = 3

/** What a rebuild recomputes from the events, all of it: sessions, their stages, owners' stages, what awaits a refold, and the rollups of sources. */
const JOURNEY_TABLES = [
  'session_stages', 'sessions', 'stage_entries', 'owner_stages', 'pending_visitors', 'pending_owners',
  'session_sources_by_day', 'touches_by_day', 'first_touch_flows_by_day',
]

/** Runs the migration steps this database has not run yet. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length)
    throw new Error(
      `the database is at schema version ${current}, newer than this Waymark knows (${MIGRATIONS.length}): upgrade Waymark`,
    )
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version])
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}

/**
 * The default store: one SQLite file. WAL lets readers run beside the writer, and
 * synchronous=FULL makes each commit durable before it returns, so an acknowledged event
 * survives a crash or power loss; group commit upstream keeps that affordable.
 */
export interface SqliteOptions {
  /** The journeys and session timeout sessions and stages are kept by (default: the B2B journey). */
  config?: WaymarkConfig
  /** Called when stored stages were computed under another configuration and are being rebuilt. */
  onRebuild?: (reason: string) => void
  /**
   * Whether to rebuild stages computed under another configuration (default true). Commands that
   * only manage sites turn it off, so they never recompute stages beside a running collector.
   */
  checkJourneys?: boolean
  /** Keep sessions and stages current as events arrive (default true); off only as a baseline for the bench. */
  maintainJourneys?: boolean
}

export function openSqliteStore(path: string, options: SqliteOptions = {}): Store {
  const config = options.config ?? DEFAULT_CONFIG
  const maintain = options.maintainJourneys !== false
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  // SQLite's default page cache is 2 MB. Index inserts land all over the B-trees of a large file
  // (ids are random), and a rebuild writes far more than that in one transaction: with 2 MB the
  // pages are read back and spilled again and again (a rebuild of a million events spent 18 s of
  // its 85 s in system calls; with 64 MB, 5 s of 71 s). Pages are allocated only as they are used.
  db.pragma('cache_size = -65536')
  migrate(db)
  // Queries stream from their own connection: an open iterator makes a better-sqlite3
  // connection busy, and the writer must never wait for an export to finish.
  const reader = path === ':memory:' ? db : new Database(path, { readonly: true })

  const insertEvent = db.prepare(
    `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
  )
  const alerts = sqliteAlerts(db)
  const journeys = journeyMaintenance(db, config, alerts)
  const siteOfCompany = db.prepare('SELECT site_id FROM companies WHERE id = ?').pluck()
  const baseGraph = sqliteIdentityGraph(db)

  const markVisitor = db.prepare(
    `INSERT INTO pending_visitors (site_id, visitor_id, from_at, from_id) VALUES (?, ?, ?, ?)
     ON CONFLICT (site_id, visitor_id) DO UPDATE SET from_at = excluded.from_at, from_id = excluded.from_id
     WHERE (excluded.from_at, excluded.from_id) < (pending_visitors.from_at, pending_visitors.from_id)`,
  )
  const markOwner = db.prepare('INSERT OR IGNORE INTO pending_owners (site_id, owner_type, owner_id) VALUES (?, ?, ?)')
  const touchOwner = (owner: Owner) => markOwner.run(owner.siteId, owner.type, owner.id)
  const touchCompany = (siteId: string, id: string | null | undefined) => id && markOwner.run(siteId, 'company', id)
  // The identity graph, noting whose stages its changes move: a visitor id that becomes a
  // person's, or a person merged away, stops being an owner at once; the person is marked.
  const graph: IdentityGraph = {
    ...baseGraph,
    link(siteId, visitorId, personId, at) {
      baseGraph.link(siteId, visitorId, personId, at)
      journeys.forgetOwner({ type: 'visitor', id: visitorId })
      touchOwner({ siteId, type: 'person', id: personId })
    },
    relink(from, to) {
      const person = baseGraph.personById(to)!
      baseGraph.relink(from, to)
      journeys.forgetOwner({ type: 'person', id: from })
      alerts.renamePerson(from, to)
      touchOwner({ siteId: person.siteId, type: 'person', id: to })
    },
    deletePerson(id) {
      const person = baseGraph.personById(id)
      baseGraph.deletePerson(id)
      if (!person) return
      touchCompany(person.siteId, person.companyId)
      journeys.forgetOwner({ type: 'person', id })
    },
    savePerson(person) {
      touchCompany(person.siteId, baseGraph.personById(person.id)?.companyId)
      baseGraph.savePerson(person)
      touchCompany(person.siteId, person.companyId)
    },
  }

  // A page view's engagement: the largest reported wins, so a report sent twice, or again after
  // the visitor came back to the tab, only ever adds.
  const mergeEngagement = db.prepare(
    `UPDATE events SET scroll_depth = max(ifnull(scroll_depth, 0), @depth), engaged_ms = max(ifnull(engaged_ms, 0), @ms)
     WHERE id = @id AND site_id = @siteId AND kind = 'pageview' RETURNING visitor_id, occurred_at, is_bot`,
  )
  const keepEarlyEngagement = db.prepare(
    `INSERT INTO early_engagements (pageview_id, site_id, visitor_id, scroll_depth, engaged_ms, received_at) VALUES (@id, @siteId, @visitorId, @depth, @ms, @at)
     ON CONFLICT (site_id, pageview_id) DO UPDATE SET scroll_depth = max(scroll_depth, excluded.scroll_depth), engaged_ms = max(engaged_ms, excluded.engaged_ms)`,
  )
  const earlyEngagementOf = db.prepare('DELETE FROM early_engagements WHERE site_id = ? AND pageview_id = ? RETURNING scroll_depth, engaged_ms')
  const anyEarlyEngagement = db.prepare('SELECT 1 FROM early_engagements LIMIT 1').pluck()
  // Almost always none wait: then a page view costs no lookup.
  let earlyEngagements = Boolean(anyEarlyEngagement.get())
  const engage = (siteId: string, pageviewId: string, depth: number, ms: number) => {
    const merged = mergeEngagement.get({ id: pageviewId, siteId, depth, ms }) as { visitor_id: string; occurred_at: number; is_bot: number } | undefined
    // Sessions add up engaged time: the visitor's, from this page view on, are recomputed.
    if (merged && !merged.is_bot && maintain) markVisitor.run(siteId, merged.visitor_id, merged.occurred_at, pageviewId)
    return Boolean(merged)
  }

  /** The ingest commit: the events, what identify and group change, and marks for what to recompute. */
  const insertEvents = db.transaction((events: StoredEvent[]) => {
    const identity: StoredEvent[] = []
    for (const event of events) {
      if (event.kind === 'page_engagement') {
        const report = { siteId: event.siteId, id: event.name!, depth: event.props!.scrollDepth as number, ms: event.props!.engagedMs as number }
        if (!engage(report.siteId, report.id, report.depth, report.ms)) {
          keepEarlyEngagement.run({ ...report, visitorId: event.visitorId, at: event.receivedAt })
          earlyEngagements = true
        }
        continue
      }
      const stored = insertEvent.run(eventValues(event)).changes === 1
      if (!stored) continue
      if (earlyEngagements && event.kind === 'pageview') {
        const early = earlyEngagementOf.get(event.siteId, event.id) as { scroll_depth: number; engaged_ms: number } | undefined
        if (early) {
          engage(event.siteId, event.id, early.scroll_depth, early.engaged_ms)
          earlyEngagements = Boolean(anyEarlyEngagement.get())
        }
      }
      if (event.kind === 'identify' || event.kind === 'group' || event.kind === 'alias' || event.userId) identity.push(event)
      // Bots are stored but kept out of sessions and journeys, and so are aliases: they say who, not what.
      if (!event.isBot && event.kind !== 'alias' && maintain) markVisitor.run(event.siteId, event.visitorId, event.occurredAt, event.id)
    }
    // In the order they happened, whatever order their requests arrived in.
    identity.sort((a, b) => a.occurredAt - b.occurredAt)
    for (const event of identity) {
      const input = {
        id: event.id,
        siteId: event.siteId,
        visitorId: event.visitorId,
        subject: event.name!,
        traits: event.props ?? {},
        at: event.occurredAt,
      }
      if (event.kind === 'alias') {
        applyAlias(graph, { id: event.id, siteId: event.siteId, previousId: String(event.props!.previousId), userId: event.name!, at: event.occurredAt })
        continue
      }
      // A user id on any event makes its visitor id that user's (an identify without traits).
      if (event.userId && event.kind !== 'identify' && graph.personOfVisitor(event.siteId, event.visitorId)?.userId !== event.userId)
        applyIdentify(graph, { ...input, subject: event.userId, traits: {} })
      // An identify with neither user id nor email (traits of someone anonymous) names no one.
      if (event.kind === 'identify' && event.name) applyIdentify(graph, input)
      else if (event.kind === 'group') applyGroup(graph, input)
    }
  })

  const pendingVisitors = db.prepare('SELECT site_id, visitor_id, from_at, from_id FROM pending_visitors LIMIT ?')
  const pendingOwners = db.prepare('SELECT site_id, owner_type, owner_id FROM pending_owners LIMIT ?')
  const donePendingVisitor = db.prepare('DELETE FROM pending_visitors WHERE site_id = ? AND visitor_id = ? AND from_at = ? AND from_id = ?')
  const donePendingOwner = db.prepare('DELETE FROM pending_owners WHERE owner_type = ? AND owner_id = ?')
  /** Visitors (and owners) in one timed catch-up pass: small enough not to hold up requests for long. */
  const CATCH_UP_BATCH = 500
  /**
   * In one pass of a catch-up that takes everything at once (before a read, on close): its
   * commit writes each page it changed once, however many of the pass's visitors changed it,
   * so fewer, larger passes write less (105,714 events kept current: 8.6 s in 72 passes of
   * 500, 6.5 s in 16 of 5,000).
   */
  const WHOLE_CATCH_UP_BATCH = 5000

  /**
   * Brings sessions and stages up to date with what was committed: each marked visitor's
   * sessions, then every owner whose sessions or identity changed, then their companies. Many
   * batches of one visitor, person or company since the last pass cost one recomputation.
   * Returns whether anything is left (passes take at most their batch of visitors, timed ones
   * fewer: see TIMED_PASS_BUDGET_MS).
   *
   * A pass first runs every recomputation in its one transaction. If one fails (a bug, or data no
   * rule foresaw), the pass is rolled back and run again with each recomputation in a savepoint of
   * its own, where the failing one alone is skipped until its next event and the others still
   * catch up: one poisoned visitor must not stop every session and stage from following, and the
   * savepoints (about a seventh of a pass's time) are paid only when one is needed.
   */
  const isolated = <Args extends unknown[]>(what: string, work: (...args: Args) => void) => {
    const step = db.transaction(work)
    return (...args: Args) => {
      try {
        step(...args)
      } catch (error) {
        console.error(`waymark: recomputing ${what} ${JSON.stringify(args).slice(0, 200)} failed; it is skipped until its next event:`, error)
      }
    }
  }
  const direct = { refreshVisitor: journeys.refreshVisitor, refreshOwner: journeys.refreshOwner, refreshCompany: journeys.refreshCompany }
  const guarded = {
    refreshVisitor: isolated('the sessions of visitor', journeys.refreshVisitor),
    refreshOwner: isolated('the stages of', journeys.refreshOwner),
    refreshCompany: isolated('the stages of company', journeys.refreshCompany),
  }

  const catchUpPassWith = db.transaction(({ refreshVisitor, refreshOwner, refreshCompany }: typeof direct, budgetMs: number): boolean => {
    const started = performance.now()
    const batch = budgetMs === Infinity ? WHOLE_CATCH_UP_BATCH : CATCH_UP_BATCH
    const pending = pendingVisitors.all(batch) as { site_id: string; visitor_id: string; from_at: number; from_id: string }[]
    const owners = new Map<string, Owner>()
    const companies = new Map<string, string>()
    const add = (owner: Owner) => owners.set(`${owner.type}:${owner.id}`, owner)
    // Past its time budget a pass takes no more visitors (their owners are still refolded in it):
    // the rest wait for the next pass, and requests run in between.
    let taken = 0
    while (taken < pending.length && (taken === 0 || performance.now() - started < budgetMs)) {
      const v = pending[taken++]
      refreshVisitor(v.site_id, v.visitor_id, { at: v.from_at, id: v.from_id })
      donePendingVisitor.run(v.site_id, v.visitor_id, v.from_at, v.from_id)
      add(journeys.ownerOfVisitor(v.site_id, v.visitor_id))
    }
    const marked = (taken < pending.length ? [] : pendingOwners.all(batch)) as { site_id: string; owner_type: Owner['type']; owner_id: string }[]
    for (const o of marked) {
      donePendingOwner.run(o.owner_type, o.owner_id)
      if (o.owner_type === 'company') companies.set(o.owner_id, o.site_id)
      // A visitor marked before it became a person's is that person's now.
      else add(o.owner_type === 'visitor' ? journeys.ownerOfVisitor(o.site_id, o.owner_id) : { siteId: o.site_id, type: o.owner_type, id: o.owner_id })
    }
    for (const owner of owners.values()) {
      refreshOwner(owner)
      const company = owner.type === 'person' ? journeys.companyOfPerson(owner.id) : undefined
      if (company) companies.set(company, owner.siteId)
    }
    for (const [company, siteId] of companies) {
      if (siteOfCompany.get(company)) refreshCompany(siteId, company)
      else journeys.forgetOwner({ type: 'company', id: company })
    }
    return taken < pending.length || pending.length === batch || marked.length === batch
  })
  /**
   * Derived rows are committed with synchronous=NORMAL: a power cut may lose the last pass, but
   * only together with the deletion of its marks (one transaction), so the next start redoes it;
   * and the WAL is appended in order, so the next durable event commit makes it durable too.
   */
  const catchUpPass = (budgetMs = Infinity): boolean => {
    db.pragma('synchronous = NORMAL')
    try {
      return catchUpPassWith(direct, budgetMs)
    } catch {
      return catchUpPassWith(guarded, budgetMs)
    } finally {
      db.pragma('synchronous = FULL')
    }
  }
  const catchUp = () => {
    while (catchUpPass()) {}
  }
  /** How soon after a commit the derived tables follow: long enough to gather a burst of batches. */
  const CATCH_UP_DELAY_MS = 100
  /** How long a timed pass may take visitors for, so requests wait at most about this long behind it. */
  const TIMED_PASS_BUDGET_MS = 5
  let catchUpTimer: ReturnType<typeof setTimeout> | undefined
  // Timed passes go one at a time, letting requests in between; reads and close take them all at once.
  const scheduleCatchUp = (delay = CATCH_UP_DELAY_MS) => {
    catchUpTimer ??= setTimeout(() => {
      catchUpTimer = undefined
      try {
        if (catchUpPass(TIMED_PASS_BUDGET_MS)) scheduleCatchUp(0)
      } catch (error) {
        console.error('waymark: keeping sessions and stages current failed; they catch up on the next commit or start:', error)
      }
    }, delay)
  }

  const siteHasEvents = reader.prepare('SELECT 1 FROM events WHERE site_id = ? LIMIT 1').pluck()
  /** A site's owner folds for a rebuild: made on a worker thread for a file (see fold-thread.ts), here for a database in memory. */
  const foldsOf = (siteId: string): Iterable<OwnerFold> =>
    !siteHasEvents.get(siteId) ? [] : path === ':memory:' ? ownerFolds(reader, config, siteId) : foldsFromThread(path, config, siteId)
  /**
   * Every site rebuilt: the journey tables are emptied whole (their pages freed at once, not row by
   * row) and refilled without their secondary indexes, each made again at the end by one sort
   * instead of an insert per row at a random place (a rebuild writes them and reads none), and
   * without the rollups' triggers, the rollups counted from the folds as they are stored (rollups.ts).
   */
  const refillingWhole = (refill: (onStored: (fold: OwnerFold) => void) => void) => {
    const made = (type: 'index' | 'trigger') =>
      db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(?))`)
        .all(type, JSON.stringify(JOURNEY_TABLES)) as { name: string; sql: string }[]
    // The rollups' triggers go first: with them, each row deleted or written would be counted.
    const [triggers, indexes] = [made('trigger'), made('index')]
    for (const { name } of triggers) db.exec(`DROP TRIGGER ${name}`)
    for (const table of JOURNEY_TABLES) db.exec(`DELETE FROM ${table}`)
    for (const { name } of indexes) db.exec(`DROP INDEX ${name}`)
    const rollups = rollupsOfFolds(config)
    refill((fold) => rollups.add(fold))
    for (const { sql } of indexes) db.exec(sql)
    rollups.write(db)
    for (const { sql } of triggers) db.exec(sql)
  }
  const rebuild = db.transaction((siteIds: string[]) => {
    // What the rollups of touches take as each journey's first stage, as configured now.
    db.exec('DELETE FROM journey_first_stages')
    const firstStage = db.prepare('INSERT INTO journey_first_stages (journey, stage) VALUES (?, ?)')
    for (const journey of config.journeys) firstStage.run(journey.name, journey.stages[0].name)
    let visitors = 0
    const refill = (onStored?: (fold: OwnerFold) => void) => {
      for (const siteId of siteIds) visitors += journeys.rebuild(siteId, foldsOf(siteId), onStored).visitors
    }
    if (siteIds.length === allSites().length) refillingWhole(refill)
    else {
      for (const table of ['pending_visitors', 'pending_owners']) db.prepare(`DELETE FROM ${table} WHERE site_id IN (SELECT value FROM json_each(?))`).run(JSON.stringify(siteIds))
      refill()
    }
    db.prepare("INSERT INTO meta (key, value) VALUES ('journeys', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(configHash)
    return { sites: siteIds.length, visitors }
  })
  /** One transaction: everything of the person, then their company marked for recomputing. */
  const erase = db.transaction((siteId: string, ref: PersonRef) => {
    const row = rowByRef(db, 'people', siteId, ref) as { id: string; company_id: string | null; user_id: string | null; email: string | null } | undefined
    if (!row) return
    const visitors = JSON.stringify(db.prepare('SELECT visitor_id FROM identities WHERE site_id = ? AND person_id = ?').pluck().all(siteId, row.id))
    const ofVisitors = 'site_id = ? AND visitor_id IN (SELECT value FROM json_each(?))'
    db.prepare(`DELETE FROM session_stages WHERE session_id IN (SELECT id FROM sessions WHERE ${ofVisitors})`).run(siteId, visitors)
    const sessions = db.prepare(`DELETE FROM sessions WHERE ${ofVisitors}`).run(siteId, visitors).changes
    // Their browsers' events, except an identify of someone else that the shared-computer rule
    // refused (it is that person's); and, on any browser, what names them: their refused
    // identifies, events a server sent with their user id, identifies and aliases naming them.
    const events =
      db.prepare(`DELETE FROM events WHERE ${ofVisitors} AND id NOT IN (SELECT event_id FROM identity_conflicts WHERE site_id = ? AND refused_person_id != ?)`).run(siteId, visitors, siteId, row.id).changes +
      db.prepare(
        `DELETE FROM events WHERE site_id = @siteId AND (id IN (SELECT event_id FROM identity_conflicts WHERE site_id = @siteId AND refused_person_id = @person)
           OR user_id = @userId OR (kind IN ('identify', 'alias') AND name IN (@userId, @email)))`,
      ).run({ siteId, person: row.id, userId: row.user_id, email: row.email }).changes
    db.prepare(`DELETE FROM pending_visitors WHERE ${ofVisitors}`).run(siteId, visitors)
    db.prepare(`DELETE FROM early_engagements WHERE ${ofVisitors}`).run(siteId, visitors)
    for (const table of ['stage_entries', 'owner_stages', 'pending_owners'])
      db.prepare(`DELETE FROM ${table} WHERE site_id = ? AND ((owner_type = 'person' AND owner_id = ?) OR (owner_type = 'visitor' AND owner_id IN (SELECT value FROM json_each(?))))`).run(siteId, row.id, visitors)
    db.prepare('DELETE FROM identity_conflicts WHERE site_id = ? AND (kept_person_id = ? OR refused_person_id = ? OR visitor_id IN (SELECT value FROM json_each(?)))').run(siteId, row.id, row.id, visitors)
    db.prepare('DELETE FROM traits WHERE subject_id = ?').run(row.id)
    alerts.forgetPerson(siteId, { id: row.id, email: row.email, userId: row.user_id })
    const visitorIds = db.prepare('DELETE FROM identities WHERE site_id = ? AND person_id = ?').run(siteId, row.id).changes
    db.prepare('DELETE FROM people WHERE id = ?').run(row.id)
    if (row.company_id) markOwner.run(siteId, 'company', row.company_id)
    return { personId: row.id, visitorIds, events, sessions }
  })
  const allSites = () => (db.prepare('SELECT id FROM sites').pluck().all() as string[])

  // Stages computed under another configuration (or none), or by earlier rules, are stale: recompute them now.
  const configHash = JSON.stringify({ ...config, rules: DERIVATION_RULES })
  const storedHash = db.prepare("SELECT value FROM meta WHERE key = 'journeys'").pluck().get() as string | undefined
  if (options.checkJourneys !== false && storedHash !== configHash) {
    const hasEvents = db.prepare('SELECT 1 FROM events LIMIT 1').get()
    if (hasEvents) options.onRebuild?.(storedHash ? "the journey configuration or Waymark's rules changed" : 'the stored stages predate this configuration')
    rebuild(allSites())
  }
  // What a crash left undone.
  catchUp()
  const insertSite = db.prepare(
    `INSERT INTO sites (id, domain, write_key_hash, read_token_hash, admin_token_hash, created_at, retention_days, honor_privacy_signals)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const selectSite = db.prepare('SELECT * FROM sites WHERE id = ?')
  const selectSites = db.prepare('SELECT * FROM sites ORDER BY created_at')

  return {
    async appendEvents(events) {
      if (!events.length) return
      insertEvents(events)
      if (maintain) scheduleCatchUp()
    },
    ...sqliteReads(reader, config, catchUp),
    ...alerts.store,
    async settle() {
      catchUp()
    },
    now: () => Date.now(),
    async rebuild(siteId) {
      return rebuild(siteId ? [siteId] : allSites())
    },
    async addSite(site) {
      insertSite.run(site.id, site.domain, site.writeKeyHash, site.readTokenHash, site.adminTokenHash, site.createdAt, site.retentionDays, site.honorPrivacySignals ? 1 : 0)
    },
    async updateSite(id, settings) {
      const columns = {
        writeKeyHash: 'write_key_hash', readTokenHash: 'read_token_hash', adminTokenHash: 'admin_token_hash', retentionDays: 'retention_days', honorPrivacySignals: 'honor_privacy_signals',
      } as const
      for (const [key, column] of Object.entries(columns)) {
        const value = settings[key as keyof typeof columns]
        if (value !== undefined) db.prepare(`UPDATE sites SET ${column} = ? WHERE id = ?`).run(typeof value === 'boolean' ? Number(value) : value, id)
      }
    },
    async erasePerson(siteId, ref) {
      catchUp()
      return erase(siteId, ref)
    },
    async deleteEventsBefore(siteId, before) {
      // A report whose page view never came within the age the collector accepts never will.
      db.prepare('DELETE FROM early_engagements WHERE site_id = ? AND received_at < ?').run(siteId, Math.max(before, Date.now() - 2 * LIMITS.maxEventAgeMs))
      return db.prepare('DELETE FROM events WHERE site_id = ? AND occurred_at < ?').run(siteId, before).changes
    },
    async findSite(id) {
      const row = selectSite.get(id) as SiteRow | undefined
      return row && siteFromRow(row)
    },
    async listSites() {
      return (selectSites.all() as SiteRow[]).map(siteFromRow)
    },
    async writable() {
      // A load balancer asks often and wants a quick answer: wait for a lock briefly, not for the usual 5 s.
      db.pragma('busy_timeout = 200')
      try {
        db.exec('BEGIN IMMEDIATE; ROLLBACK')
        return true
      } catch {
        return false
      } finally {
        db.pragma('busy_timeout = 5000')
      }
    },
    async close() {
      clearTimeout(catchUpTimer)
      catchUp()
      if (reader !== db) reader.close()
      db.close()
    },
  }
}

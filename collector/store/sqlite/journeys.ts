import type Database from 'better-sqlite3'
import type { Journey, WaymarkConfig } from '../../stages/config'
import { asTheyHappened, companyProgress, ownerProgress, type ProgressedSession, type StageEntry, type StageTransition } from '../../stages/progress'
import { decodeProgress, encodeProgress } from '../../stages/progress-codec'
import type { OwnerJourney, StageCount, StoredEvent } from '../types'
import { eventFromValues, STORED_EVENT_COLUMNS } from './event-rows'
import { ownerLookups, progressedSessions, SESSION_COLUMNS, sessionValues, type Owner, type OwnerFold } from './owner-fold'

export type { Owner } from './owner-fold'

/** What else is written with an owner's stage entries, in the same transaction. */
export interface StageEntryListener {
  queueStageAlerts(owner: Owner, journey: Journey, entries: StageEntry[], transitions: StageTransition[], score: number): void
}

/**
 * Keeps sessions and journey stages current, inside the transaction that stores the events.
 * Everything here runs the same pure functions a rebuild runs, on the same inputs, so the
 * incremental path and `waymark rebuild` cannot disagree:
 * - a visitor's sessions are recomputed from the last session that began before the earliest
 *   new event (earlier sessions cannot change: they end before it and never look ahead);
 * - an owner's stages are refolded from their sessions' stored progress, not their events.
 */
export function journeyMaintenance(db: Database.Database, config: WaymarkConfig, alerts?: StageEntryListener) {
  const statements = {
    anchor: db.prepare(
      `SELECT id, started_at FROM sessions WHERE site_id = ? AND visitor_id = ? AND (started_at < ? OR (started_at = ? AND id < ?))
       ORDER BY started_at DESC, id DESC LIMIT 1`,
    ),
    eventsFrom: db.prepare(
      `SELECT ${STORED_EVENT_COLUMNS.join(', ')} FROM events WHERE site_id = ? AND visitor_id = ? AND is_bot = 0 AND kind != 'alias' AND (occurred_at > ? OR (occurred_at = ? AND id >= ?))
       ORDER BY occurred_at, id`,
    ).raw(true),
    deleteSessionStagesFrom: db.prepare(
      `DELETE FROM session_stages WHERE session_id IN (SELECT id FROM sessions WHERE site_id = ? AND visitor_id = ?
       AND (started_at > ? OR (started_at = ? AND id >= ?)))`,
    ),
    deleteSessionsFrom: db.prepare(
      'DELETE FROM sessions WHERE site_id = ? AND visitor_id = ? AND (started_at > ? OR (started_at = ? AND id >= ?))',
    ),
    // Whose the session is, looked up as it is written (triggers keep it as identities change):
    // the values are followed by the site and visitor id once more (see storeSession).
    insertSession: db.prepare(
      `INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}, person_id, company_id)
       SELECT ${SESSION_COLUMNS.map(() => '?').join(', ')}, i.person_id, p.company_id
       FROM (SELECT 1) LEFT JOIN identities i ON i.site_id = ? AND i.visitor_id = ? LEFT JOIN people p ON p.id = i.person_id`,
    ),
    insertSessionStage: db.prepare('INSERT INTO session_stages (session_id, journey, stage, score, progress) VALUES (?, ?, ?, ?, ?)'),
    visitorSessions: db.prepare(
      `SELECT sessions.id, sessions.started_at, sessions.entry_path, sessions.channel, sessions.campaign, session_stages.progress,
         session_stages.stage, session_stages.score
       FROM sessions JOIN session_stages ON session_stages.session_id = sessions.id AND session_stages.journey = ?
       WHERE sessions.site_id = ? AND sessions.visitor_id = ?
       ORDER BY sessions.started_at, sessions.id`,
    ),
    personSessions: db.prepare(
      `SELECT sessions.id, sessions.started_at, sessions.entry_path, sessions.channel, sessions.campaign, session_stages.progress,
         session_stages.stage, session_stages.score
       FROM sessions INDEXED BY sessions_of_people
       JOIN session_stages ON session_stages.session_id = sessions.id AND session_stages.journey = ?
       WHERE sessions.site_id = ? AND sessions.person_id = ?
       ORDER BY sessions.started_at, sessions.id`,
    ),
    updateSessionStage: db.prepare('UPDATE session_stages SET stage = ?, score = ? WHERE session_id = ? AND journey = ?'),
    deleteEntries: db.prepare('DELETE FROM stage_entries WHERE owner_type = ? AND owner_id = ?'),
    deleteOwnerStages: db.prepare('DELETE FROM owner_stages WHERE owner_type = ? AND owner_id = ?'),
    // The entry holds its session's source, for the rollups of touches (see migration 18).
    insertEntry: db.prepare(
      `INSERT INTO stage_entries (site_id, owner_type, owner_id, journey, stage, entered_at, session_id, channel, campaign, page, moved, moved_from, next_at, source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT source FROM sessions WHERE id = ?))`,
    ),
    insertOwnerStage: db.prepare('INSERT OR REPLACE INTO owner_stages (site_id, owner_type, owner_id, journey, stage, score) VALUES (?, ?, ?, ?, ?, ?)'),
    storedEntries: db.prepare(
      `SELECT stage, entered_at AS at, session_id AS sessionId, channel, campaign, page, moved, moved_from AS movedFrom, next_at AS nextAt FROM stage_entries
       WHERE owner_type = ? AND owner_id = ? AND journey = ?`,
    ),
    deleteEntry: db.prepare('DELETE FROM stage_entries WHERE owner_type = ? AND owner_id = ? AND journey = ? AND stage = ?'),
    storedOwnerStage: db.prepare('SELECT stage, score FROM owner_stages WHERE owner_type = ? AND owner_id = ? AND journey = ?'),
    deleteJourneyEntries: db.prepare('DELETE FROM stage_entries WHERE owner_type = ? AND owner_id = ? AND journey = ?'),
    deleteJourneyOwnerStage: db.prepare('DELETE FROM owner_stages WHERE owner_type = ? AND owner_id = ? AND journey = ?'),
    companyPeopleEntries: db.prepare(
      `SELECT e.stage, e.entered_at AS at, e.session_id AS sessionId, e.channel, e.campaign, e.page
       FROM people CROSS JOIN stage_entries e ON e.owner_type = 'person' AND e.owner_id = people.id AND e.journey = ?
       WHERE people.company_id = ?`,
    ),
  }

  const [siteAt, visitorAt] = [SESSION_COLUMNS.indexOf('site_id'), SESSION_COLUMNS.indexOf('visitor_id')]
  const storeSession = (values: unknown[]) => statements.insertSession.run(...values, values[siteAt], values[visitorAt])

  /** Stores sessions made from a visitor's events, each with its progress through every journey, their stages left for the owner's refold. */
  const storeSessions = (events: StoredEvent[]) => {
    for (const { session, progress } of progressedSessions(config, events)) {
      storeSession(sessionValues(session))
      config.journeys.forEach((journey, j) =>
        statements.insertSessionStage.run(session.id, journey.name, null, 0, encodeProgress(progress[j], session.startedAt)),
      )
    }
  }

  /** Stores a rebuild's fold of one owner: their sessions, and their way through every journey. */
  const storeFold = ({ owner, sessions, sessionStages, journeys }: OwnerFold) => {
    for (const values of sessions) storeSession(values)
    for (const values of sessionStages) statements.insertSessionStage.run(values)
    journeys.forEach((fold, j) => fold && writeOwner(owner, config.journeys[j], fold.entries, fold.transitions, fold.stage, fold.score))
  }

  const { ownerOfVisitor, companyOfPerson } = ownerLookups(db)

  const forgetOwner = (owner: Pick<Owner, 'type' | 'id'>) => {
    statements.deleteEntries.run(owner.type, owner.id)
    statements.deleteOwnerStages.run(owner.type, owner.id)
  }

  // A refold usually finds what is stored already (a visitor's next page view rarely moves a
  // stage), so it reads before it writes and rewrites an owner's rows for a journey only when
  // they differ: a read costs a fraction of a write and its index updates. The alerts the
  // entries call for are queued in the same transaction, and only once (the outbox remembers),
  // so a crash between the stage change and its alert loses neither.
  // During a rebuild the tables start empty: nothing to compare with before writing.
  let rebuilding = false
  const writeOwner = (owner: Owner, journey: Journey, entries: StageEntry[], transitions: StageTransition[], stage: string | null, score: number) => {
    const key = [owner.type, owner.id, journey.name] as const
    const rows = entryRows(entries, transitions)
    const nextAt = nextEntryTimes(journey, rows)
    const fresh = rows.map((e, i): StoredEntryRow => ({ ...e, nextAt: nextAt[i] }))
    const { gone, added } = rebuilding ? { gone: [], added: fresh } : changedEntries(statements.storedEntries.all(...key) as StoredEntryRow[], fresh)
    for (const stage of gone) statements.deleteEntry.run(...key, stage)
    for (const e of added)
      statements.insertEntry.run(owner.siteId, owner.type, owner.id, journey.name, e.stage, e.at, e.sessionId, e.channel, e.campaign, e.page, e.moved, e.movedFrom, e.nextAt, e.sessionId)
    const stored = rebuilding ? undefined : (statements.storedOwnerStage.get(...key) as { stage: string | null; score: number } | undefined)
    if (stored?.stage !== stage || stored.score !== score)
      statements.insertOwnerStage.run(owner.siteId, owner.type, owner.id, journey.name, stage, score)
    alerts?.queueStageAlerts(owner, journey, entries, transitions, score)
  }

  /** An owner with nothing in a journey (no sessions in it, or a company none of whose people entered it) keeps no rows for it. */
  const clearOwnerJourney = (owner: Owner, journey: Journey) => {
    const key = [owner.type, owner.id, journey.name] as const
    statements.deleteJourneyEntries.run(...key)
    statements.deleteJourneyOwnerStage.run(...key)
  }

  /** Refolds a person's or visitor's stages in every journey from their sessions' stored progress. */
  const refreshOwner = (owner: Owner) => {
    const query = owner.type === 'person' ? statements.personSessions : statements.visitorSessions
    for (const journey of config.journeys) {
      const rows = query.all(journey.name, owner.siteId, owner.id) as {
        id: string
        started_at: number
        entry_path: string
        channel: string
        campaign: string | null
        progress: string
        stage: string | null
        score: number
      }[]
      if (!rows.length) {
        clearOwnerJourney(owner, journey)
        continue
      }
      const sessions = rows.map(
        (row): ProgressedSession => ({
          id: row.id,
          startedAt: row.started_at,
          entryPath: row.entry_path,
          channel: row.channel,
          campaign: row.campaign,
          progress: decodeProgress(row.progress, row.started_at, journey),
        }),
      )
      const result = ownerProgress(journey, sessions)
      const storedStages = new Map(rows.map((row) => [row.id, row]))
      for (const s of result.sessions) {
        const stored = storedStages.get(s.sessionId)
        if (stored?.stage !== s.stage || stored.score !== s.score) statements.updateSessionStage.run(s.stage, s.score, s.sessionId, journey.name)
      }
      writeOwner(owner, journey, result.entries, result.transitions, result.stage, result.score)
    }
  }

  /** A company's stages, from its people's. */
  const refreshCompany = (siteId: string, companyId: string) => {
    const owner: Owner = { siteId, type: 'company', id: companyId }
    for (const journey of config.journeys) {
      // One query for all its people (a large account can have thousands); CROSS JOIN keeps SQLite
      // from starting at every person's entries instead of the company's people.
      const entries = statements.companyPeopleEntries.all(journey.name, companyId) as StageEntry[]
      if (!entries.length) {
        clearOwnerJourney(owner, journey)
        continue
      }
      const result = companyProgress(journey, [entries])
      writeOwner(owner, journey, result.entries, result.transitions, result.stage, 0)
    }
  }

  return {
    ownerOfVisitor,
    forgetOwner,
    refreshOwner,
    refreshCompany,
    companyOfPerson,

    /** Recomputes a visitor's sessions from the last one that began before `from` (the earliest new event). */
    refreshVisitor(siteId: string, visitorId: string, from: { at: number; id: string }) {
      const anchor = statements.anchor.get(siteId, visitorId, from.at, from.at, from.id) as { id: string; started_at: number } | undefined
      const [at, id] = anchor ? [anchor.started_at, anchor.id] : [-Infinity, '']
      statements.deleteSessionStagesFrom.run(siteId, visitorId, at, at, id)
      statements.deleteSessionsFrom.run(siteId, visitorId, at, at, id)
      const events = (statements.eventsFrom.all(siteId, visitorId, at, at, id) as (string | number | null)[][]).map(eventFromValues)
      storeSessions(events)
    },

    /** Every session and stage of a site, recomputed from its owners' folds (see owner-fold.ts), each given to `onStored` once stored. */
    rebuild(siteId: string, folds: Iterable<OwnerFold>, onStored?: (fold: OwnerFold) => void) {
      db.prepare('DELETE FROM session_stages WHERE session_id IN (SELECT id FROM sessions WHERE site_id = ?)').run(siteId)
      db.prepare('DELETE FROM sessions WHERE site_id = ?').run(siteId)
      for (const table of ['stage_entries', 'owner_stages']) db.prepare(`DELETE FROM ${table} WHERE site_id = ?`).run(siteId)
      rebuilding = true
      try {
        let owners = 0
        let companies = 0
        for (const fold of folds) {
          storeFold(fold)
          onStored?.(fold)
          if (fold.owner.type === 'company') companies++
          else owners++
        }
        return { visitors: owners, companies }
      } finally {
        rebuilding = false
      }
    },
  }
}

const same = (a: unknown, b: unknown) => (a ?? null) === (b ?? null)

/** A stage entry as stored: with the transition into it, when it was the furthest stage of a move. */
export type EntryRow = StageEntry & { moved: 0 | 1; movedFrom: string | null }

/**
 * An owner's entries with their transitions folded in. Each transition moves the owner to a
 * stage entered at that moment, by that session (the stages it skipped are entered with it), and
 * no stage is moved to twice, so the transition is stored on the entry of the stage it reached.
 */
export function entryRows(entries: StageEntry[], transitions: StageTransition[]): EntryRow[] {
  const into = new Map(transitions.map((t) => [t.to, t]))
  return entries.map((e) => {
    const t = into.get(e.stage)
    if (t && (t.at !== e.at || t.sessionId !== e.sessionId))
      throw new Error(`the move to ${e.stage} (${t.at}, session ${t.sessionId}) is not its entry (${e.at}, session ${e.sessionId})`)
    return { ...e, moved: t ? 1 : 0, movedFrom: t ? t.from : null }
  })
}

/**
 * An owner's transitions in one journey, from its stored entries: in the order they happened,
 * and, within one moment, in the journey's order.
 */
export function transitionsFromEntries(journey: Journey, rows: EntryRow[]): StageTransition[] {
  return rows
    .filter((e) => e.moved)
    .sort(asTheyHappened(journey))
    .map((e) => ({ from: e.movedFrom ?? null, to: e.stage, at: e.at, sessionId: e.sessionId }))
}

/**
 * For each of an owner's entries, when they entered the journey's next stage (null: not yet, or
 * this is the last), stored beside it so the funnel counts movers from one index without pairing
 * entries. Derived from the same entries alone, so entries stored unchanged keep theirs right.
 */
export function nextEntryTimes(journey: Journey, entries: Pick<StageEntry, 'stage' | 'at'>[]): (number | null)[] {
  const atOf = new Map(entries.map((e) => [e.stage, e.at]))
  const names = journey.stages.map((s) => s.name)
  return entries.map((e) => {
    const i = names.indexOf(e.stage)
    return i < 0 ? null : (atOf.get(names[i + 1]) ?? null)
  })
}

/** A stage entry as the table holds it, with when the owner entered the journey's next stage. */
export type StoredEntryRow = EntryRow & { nextAt: number | null }

const sameEntry = (s: StoredEntryRow, e: StoredEntryRow) =>
  s.at === e.at && same(s.sessionId, e.sessionId) && same(s.channel, e.channel) && same(s.campaign, e.campaign) &&
  same(s.page, e.page) && s.moved === e.moved && same(s.movedFrom, e.movedFrom) && same(s.nextAt, e.nextAt)

/**
 * What an owner's refold changes in their stored entries for one journey, stage by stage: the
 * stages whose stored entry goes (changed or no longer entered) and the fresh entries to write
 * (changed or new). An owner who moves on usually changes two rows (the new stage, and the next
 * stage's time on the one before), not all of them: each row written or deleted costs its
 * indexes and the rollups' triggers. Pure.
 */
export function changedEntries(stored: StoredEntryRow[], fresh: StoredEntryRow[]): { gone: string[]; added: StoredEntryRow[] } {
  const freshByStage = new Map(fresh.map((e) => [e.stage, e]))
  const storedByStage = new Map(stored.map((e) => [e.stage, e]))
  return {
    gone: stored.filter((s) => !freshByStage.has(s.stage) || !sameEntry(s, freshByStage.get(s.stage)!)).map((s) => s.stage),
    added: fresh.filter((e) => !storedByStage.has(e.stage) || !sameEntry(storedByStage.get(e.stage)!, e)),
  }
}

/** An owner's way through a journey, from their stored place and entries (both engines store them alike). */
export function ownerJourneyFrom(config: WaymarkConfig, journey: string, current: { stage: string | null; score: number } | undefined, entries: EntryRow[]): OwnerJourney {
  const known = config.journeys.find((j) => j.name === journey)
  return {
    stage: current?.stage ?? null,
    score: current?.score ?? 0,
    entries: entries.map(({ moved, movedFrom, ...entry }) => entry),
    // Only configured journeys have stages stored.
    transitions: known ? transitionsFromEntries(known, entries) : [],
  }
}

/** Owners who entered each stage of a journey, every configured stage listed. */
export function stageCountsFrom(config: WaymarkConfig, journey: string, rows: StageCount[]): StageCount[] {
  const counts = new Map(rows.map((r) => [r.stage, r]))
  return (config.journeys.find((j) => j.name === journey)?.stages ?? []).map(({ name }) => ({
    stage: name,
    people: counts.get(name)?.people ?? 0,
    visitors: counts.get(name)?.visitors ?? 0,
    companies: counts.get(name)?.companies ?? 0,
  }))
}

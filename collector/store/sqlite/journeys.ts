import type Database from 'better-sqlite3'
import { sessionize, type Session } from '../../sessions/sessionize'
import type { Journey, WaymarkConfig } from '../../stages/config'
import { companyProgress, ownerProgress, sessionProgress, type ProgressedSession, type SessionProgress, type StageEntry, type StageTransition } from '../../stages/progress'
import type { OwnerType, StoredEvent } from '../types'
import { eventFromRow, type EventRow } from './event-rows'

/** Who moves through a journey: a person, a visitor not yet known as one, or a company. */
export interface Owner {
  siteId: string
  type: OwnerType
  id: string
}

const SESSION_COLUMNS = [
  'id', 'site_id', 'visitor_id', 'started_at', 'ended_at', 'pageviews', 'events', 'conversions', 'entry_url',
  'entry_path', 'exit_path', 'referrer', 'source', 'medium', 'campaign', 'term', 'content', 'gclid', 'fbclid',
  'msclkid', 'li_fat_id', 'channel', 'browser', 'os', 'device', 'engaged_ms', 'engaged', 'arrival_key',
] as const

const sessionValues = (s: Session) => [
  s.id, s.siteId, s.visitorId, s.startedAt, s.endedAt, s.pageviews, s.events, s.conversions, s.entryUrl,
  s.entryPath, s.exitPath, s.referrer, s.source, s.medium, s.campaign, s.term, s.content, s.gclid, s.fbclid,
  s.msclkid, s.liFatId, s.channel, s.browser, s.os, s.device, s.engagedMs, s.engaged ? 1 : 0, s.arrivalKey,
]

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
  const timeoutMs = config.sessionTimeoutMinutes * 60_000
  const statements = {
    anchor: db.prepare(
      `SELECT id, started_at FROM sessions WHERE site_id = ? AND visitor_id = ? AND (started_at < ? OR (started_at = ? AND id < ?))
       ORDER BY started_at DESC, id DESC LIMIT 1`,
    ),
    eventsFrom: db.prepare(
      `SELECT * FROM events WHERE site_id = ? AND visitor_id = ? AND is_bot = 0 AND kind != 'alias' AND (occurred_at > ? OR (occurred_at = ? AND id >= ?))
       ORDER BY occurred_at, id`,
    ),
    deleteSessionStagesFrom: db.prepare(
      `DELETE FROM session_stages WHERE session_id IN (SELECT id FROM sessions WHERE site_id = ? AND visitor_id = ?
       AND (started_at > ? OR (started_at = ? AND id >= ?)))`,
    ),
    deleteSessionsFrom: db.prepare(
      'DELETE FROM sessions WHERE site_id = ? AND visitor_id = ? AND (started_at > ? OR (started_at = ? AND id >= ?))',
    ),
    insertSession: db.prepare(`INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES (${SESSION_COLUMNS.map(() => '?').join(', ')})`),
    insertSessionStage: db.prepare('INSERT INTO session_stages (session_id, journey, stage, score, progress) VALUES (?, ?, NULL, 0, ?)'),
    personOfVisitor: db.prepare('SELECT person_id FROM identities WHERE site_id = ? AND visitor_id = ?').pluck(),
    companyOfPerson: db.prepare('SELECT company_id FROM people WHERE id = ?').pluck(),
    visitorSessions: db.prepare(
      `SELECT sessions.id, sessions.started_at, sessions.entry_path, sessions.channel, sessions.campaign, session_stages.progress
       FROM sessions JOIN session_stages ON session_stages.session_id = sessions.id AND session_stages.journey = ?
       WHERE sessions.site_id = ? AND sessions.visitor_id = ?
       ORDER BY sessions.started_at, sessions.id`,
    ),
    personSessions: db.prepare(
      `SELECT sessions.id, sessions.started_at, sessions.entry_path, sessions.channel, sessions.campaign, session_stages.progress
       FROM identities
       JOIN sessions ON sessions.site_id = identities.site_id AND sessions.visitor_id = identities.visitor_id
       JOIN session_stages ON session_stages.session_id = sessions.id AND session_stages.journey = ?
       WHERE identities.site_id = ? AND identities.person_id = ?
       ORDER BY sessions.started_at, sessions.id`,
    ),
    updateSessionStage: db.prepare('UPDATE session_stages SET stage = ?, score = ? WHERE session_id = ? AND journey = ?'),
    deleteEntries: db.prepare('DELETE FROM stage_entries WHERE owner_type = ? AND owner_id = ?'),
    deleteTransitions: db.prepare('DELETE FROM stage_transitions WHERE owner_type = ? AND owner_id = ?'),
    deleteOwnerStages: db.prepare('DELETE FROM owner_stages WHERE owner_type = ? AND owner_id = ?'),
    insertEntry: db.prepare(
      `INSERT INTO stage_entries (site_id, owner_type, owner_id, journey, stage, entered_at, session_id, channel, campaign, page)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertTransition: db.prepare(
      `INSERT INTO stage_transitions (site_id, owner_type, owner_id, journey, from_stage, to_stage, at, session_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertOwnerStage: db.prepare('INSERT INTO owner_stages (site_id, owner_type, owner_id, journey, stage, score) VALUES (?, ?, ?, ?, ?, ?)'),
    companyPeopleEntries: db.prepare(
      `SELECT e.stage, e.entered_at AS at, e.session_id AS sessionId, e.channel, e.campaign, e.page
       FROM people CROSS JOIN stage_entries e ON e.owner_type = 'person' AND e.owner_id = people.id AND e.journey = ?
       WHERE people.company_id = ?`,
    ),
  }

  /** Stores sessions made from a visitor's events, each with its progress through every journey. */
  const storeSessions = (events: StoredEvent[]) => {
    for (const { session, events: own } of sessionize(events, timeoutMs)) {
      statements.insertSession.run(sessionValues(session))
      for (const journey of config.journeys)
        statements.insertSessionStage.run(session.id, journey.name, JSON.stringify(sessionProgress(journey, session, own)))
    }
  }

  const ownerOfVisitor = (siteId: string, visitorId: string): Owner => {
    const personId = statements.personOfVisitor.get(siteId, visitorId) as string | undefined
    return personId ? { siteId, type: 'person', id: personId } : { siteId, type: 'visitor', id: visitorId }
  }

  const forgetOwner = (owner: Pick<Owner, 'type' | 'id'>) => {
    statements.deleteEntries.run(owner.type, owner.id)
    statements.deleteTransitions.run(owner.type, owner.id)
    statements.deleteOwnerStages.run(owner.type, owner.id)
  }

  // Entries are deleted and written again on every refold; the alerts they call for are queued in
  // the same transaction, and only once (the outbox remembers), so a crash between the stage
  // change and its alert loses neither.
  const writeOwner = (owner: Owner, journey: Journey, entries: StageEntry[], transitions: StageTransition[], stage: string | null, score: number) => {
    for (const e of entries)
      statements.insertEntry.run(owner.siteId, owner.type, owner.id, journey.name, e.stage, e.at, e.sessionId, e.channel, e.campaign, e.page)
    for (const t of transitions)
      statements.insertTransition.run(owner.siteId, owner.type, owner.id, journey.name, t.from, t.to, t.at, t.sessionId)
    statements.insertOwnerStage.run(owner.siteId, owner.type, owner.id, journey.name, stage, score)
    alerts?.queueStageAlerts(owner, journey, entries, transitions, score)
  }

  /** Refolds a person's or visitor's stages in every journey from their sessions' stored progress. */
  const refreshOwner = (owner: Owner) => {
    forgetOwner(owner)
    const query = owner.type === 'person' ? statements.personSessions : statements.visitorSessions
    for (const journey of config.journeys) {
      const sessions = (
        query.all(journey.name, owner.siteId, owner.id) as {
          id: string
          started_at: number
          entry_path: string
          channel: string
          campaign: string | null
          progress: string
        }[]
      ).map(
        (row): ProgressedSession => ({
          id: row.id,
          startedAt: row.started_at,
          entryPath: row.entry_path,
          channel: row.channel,
          campaign: row.campaign,
          progress: JSON.parse(row.progress) as SessionProgress,
        }),
      )
      if (!sessions.length) continue
      const result = ownerProgress(journey, sessions)
      for (const s of result.sessions) statements.updateSessionStage.run(s.stage, s.score, s.sessionId, journey.name)
      writeOwner(owner, journey, result.entries, result.transitions, result.stage, result.score)
    }
  }

  /** A company's stages, from its people's. */
  const refreshCompany = (siteId: string, companyId: string) => {
    const owner: Owner = { siteId, type: 'company', id: companyId }
    forgetOwner(owner)
    for (const journey of config.journeys) {
      // One query for all its people (a large account can have thousands); CROSS JOIN keeps SQLite
      // from starting at every person's entries instead of the company's people.
      const entries = statements.companyPeopleEntries.all(journey.name, companyId) as StageEntry[]
      if (!entries.length) continue
      const result = companyProgress(journey, [entries])
      writeOwner(owner, journey, result.entries, result.transitions, result.stage, 0)
    }
  }

  return {
    ownerOfVisitor,
    forgetOwner,
    refreshOwner,
    refreshCompany,
    companyOfPerson: (personId: string) => statements.companyOfPerson.get(personId) as string | null | undefined,

    /** Recomputes a visitor's sessions from the last one that began before `from` (the earliest new event). */
    refreshVisitor(siteId: string, visitorId: string, from: { at: number; id: string }) {
      const anchor = statements.anchor.get(siteId, visitorId, from.at, from.at, from.id) as { id: string; started_at: number } | undefined
      const [at, id] = anchor ? [anchor.started_at, anchor.id] : [-Infinity, '']
      statements.deleteSessionStagesFrom.run(siteId, visitorId, at, at, id)
      statements.deleteSessionsFrom.run(siteId, visitorId, at, at, id)
      const events = (statements.eventsFrom.all(siteId, visitorId, at, at, id) as EventRow[]).map(eventFromRow)
      storeSessions(events)
    },

    /** Every session and stage of a site, recomputed from its stored events. */
    rebuild(siteId: string, eventsByVisitor: Iterable<StoredEvent[]>) {
      db.prepare('DELETE FROM session_stages WHERE session_id IN (SELECT id FROM sessions WHERE site_id = ?)').run(siteId)
      db.prepare('DELETE FROM sessions WHERE site_id = ?').run(siteId)
      for (const table of ['stage_entries', 'stage_transitions', 'owner_stages']) db.prepare(`DELETE FROM ${table} WHERE site_id = ?`).run(siteId)
      const owners = new Map<string, Owner>()
      for (const events of eventsByVisitor) {
        storeSessions(events)
        const owner = ownerOfVisitor(siteId, events[0].visitorId)
        owners.set(`${owner.type}:${owner.id}`, owner)
      }
      const companies = new Set<string>()
      for (const owner of owners.values()) {
        refreshOwner(owner)
        const company = owner.type === 'person' ? statements.companyOfPerson.get(owner.id) : undefined
        if (company) companies.add(company as string)
      }
      for (const company of companies) refreshCompany(siteId, company)
      return { visitors: owners.size, companies: companies.size }
    },
  }
}


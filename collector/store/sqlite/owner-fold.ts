import type Database from 'better-sqlite3'
import { sessionize, type Session } from '../../sessions/sessionize'
import type { WaymarkConfig } from '../../stages/config'
import { companyProgress, ownerProgress, sessionProgress, type StageEntry, type StageTransition } from '../../stages/progress'
import { encodeProgress } from '../../stages/progress-codec'
import type { OwnerType, StoredEvent } from '../types'
import { eventFromValues, STORED_EVENT_COLUMNS } from './event-rows'

/** Who moves through a journey: a person, a visitor not yet known as one, or a company. */
export interface Owner {
  siteId: string
  type: OwnerType
  id: string
}

export const SESSION_COLUMNS = [
  'id', 'site_id', 'visitor_id', 'started_at', 'ended_at', 'pageviews', 'events', 'conversions', 'entry_url',
  'entry_path', 'exit_path', 'referrer', 'source', 'medium', 'campaign', 'term', 'content', 'gclid', 'fbclid',
  'msclkid', 'li_fat_id', 'channel', 'browser', 'os', 'device', 'engaged_ms', 'engaged', 'arrival_key',
] as const

export const sessionValues = (s: Session) => [
  s.id, s.siteId, s.visitorId, s.startedAt, s.endedAt, s.pageviews, s.events, s.conversions, s.entryUrl,
  s.entryPath, s.exitPath, s.referrer, s.source, s.medium, s.campaign, s.term, s.content, s.gclid, s.fbclid,
  s.msclkid, s.liFatId, s.channel, s.browser, s.os, s.device, s.engagedMs, s.engaged ? 1 : 0, s.arrivalKey,
]

/** Who owns a visitor's sessions, and a person's company, as `db` reads them (the writer, or a rebuild's reader). */
export function ownerLookups(db: Database.Database) {
  const personOfVisitor = db.prepare('SELECT person_id FROM identities WHERE site_id = ? AND visitor_id = ?').pluck()
  const companyOfPerson = db.prepare('SELECT company_id FROM people WHERE id = ?').pluck()
  return {
    ownerOfVisitor(siteId: string, visitorId: string): Owner {
      const personId = personOfVisitor.get(siteId, visitorId) as string | undefined
      return personId ? { siteId, type: 'person', id: personId } : { siteId, type: 'visitor', id: visitorId }
    },
    companyOfPerson: (personId: string) => (companyOfPerson.get(personId) as string | null | undefined) ?? null,
  }
}

/** Rows of events in visitor order, as each visitor's events. */
function* byVisitor(rows: Iterable<unknown>): Generator<StoredEvent[]> {
  let current: StoredEvent[] = []
  for (const row of rows) {
    const event = eventFromValues(row as (string | number | null)[])
    if (current.length && current[0].visitorId !== event.visitorId) {
      yield current
      current = []
    }
    current.push(event)
  }
  if (current.length) yield current
}

/** A visitor's sessions, made from their events (in order), each with its progress through every journey. */
export const progressedSessions = (config: WaymarkConfig, events: StoredEvent[]) =>
  sessionize(events, config.sessionTimeoutMinutes * 60_000).map(({ session, events: own }) => ({
    session,
    progress: config.journeys.map((journey) => sessionProgress(journey, session, own)),
  }))

/** An owner's way through one journey, as stored on their stage rows. */
export interface JourneyFold {
  entries: StageEntry[]
  transitions: StageTransition[]
  stage: string | null
  score: number
}

/**
 * What a rebuild stores for one owner (an anonymous visitor, a person with every browser they
 * were seen on, or a company from its people's), made with no database in reach, so a worker
 * thread can make it: their sessions' rows, each session's row per journey, and the owner's way
 * through each journey.
 */
export interface OwnerFold {
  owner: Owner
  /** A person's company. */
  companyId: string | null
  sessions: ReturnType<typeof sessionValues>[]
  /** session id, journey, stage, score, progress: as session_stages holds them. */
  sessionStages: [string, string, string | null, number, string][]
  /** One per configured journey, in their order; null for a company none of whose people entered it (it keeps no rows for it). */
  journeys: (JourneyFold | null)[]
}

/** Sessions in the order an owner's are folded: by start, then id (as a refold reads them). */
const byStart = (a: { session: Session }, b: { session: Session }) =>
  a.session.startedAt - b.session.startedAt || (a.session.id < b.session.id ? -1 : a.session.id > b.session.id ? 1 : 0)

/**
 * An owner's fold, from each of their browsers' events (each in order). It folds the stages
 * exactly as a refold from the stored progress does (that decodes to exactly what is encoded).
 */
export function foldOwner(config: WaymarkConfig, owner: Owner, companyId: string | null, eventsByBrowser: StoredEvent[][]): OwnerFold {
  const made = eventsByBrowser.flatMap((events) => progressedSessions(config, events))
  if (eventsByBrowser.length > 1) made.sort(byStart)
  const sessionStages: OwnerFold['sessionStages'] = []
  const journeys = config.journeys.map((journey, j): JourneyFold => {
    const result = ownerProgress(
      journey,
      made.map(({ session: { id, startedAt, entryPath, channel, campaign }, progress }) => ({ id, startedAt, entryPath, channel, campaign, progress: progress[j] })),
    )
    // A session outside the journey's scope has no stage in it, and no score.
    const stageOf = new Map(result.sessions.map((s) => [s.sessionId, s]))
    for (const { session, progress } of made) {
      const folded = stageOf.get(session.id)
      sessionStages.push([session.id, journey.name, folded?.stage ?? null, folded?.score ?? 0, encodeProgress(progress[j], session.startedAt)])
    }
    return { entries: result.entries, transitions: result.transitions, stage: result.stage, score: result.score }
  })
  return { owner, companyId, sessions: made.map(({ session }) => sessionValues(session)), sessionStages, journeys }
}

/**
 * Every owner's fold of a site, from the events and identities `db` reads (a rebuild's reader:
 * the writer's own connection is busy writing what these make). Visitors come in one pass over
 * the events in visitor order; a person seen on several browsers is left for a second pass that
 * reads all of their browsers' events together; companies come last, from their people's entries.
 */
export function* ownerFolds(db: Database.Database, config: WaymarkConfig, siteId: string): Generator<OwnerFold> {
  // Each company's people's entries, per journey.
  const companies = new Map<string, StageEntry[][]>()
  const withCompany = (fold: OwnerFold) => {
    if (fold.companyId) {
      const entries = companies.get(fold.companyId) ?? companies.set(fold.companyId, config.journeys.map(() => [])).get(fold.companyId)!
      fold.journeys.forEach((journey, j) => entries[j].push(...journey!.entries))
    }
    return fold
  }
  const { ownerOfVisitor, companyOfPerson } = ownerLookups(db)
  const browsersOfPerson = db.prepare('SELECT visitor_id FROM identities WHERE site_id = ? AND person_id = ?').pluck()
  const columns = STORED_EVENT_COLUMNS.join(', ')
  const folded = "site_id = ? AND is_bot = 0 AND kind != 'alias'"
  const eventsOfSite = db.prepare(`SELECT ${columns} FROM events WHERE ${folded} ORDER BY visitor_id, occurred_at, id`).raw(true)
  const eventsOfVisitor = db.prepare(`SELECT ${columns} FROM events WHERE ${folded} AND visitor_id = ? ORDER BY occurred_at, id`).raw(true)
  const onSeveralBrowsers = new Map<string, Owner>()
  for (const events of byVisitor(eventsOfSite.iterate(siteId))) {
    const owner = ownerOfVisitor(siteId, events[0].visitorId)
    if (owner.type === 'visitor') yield foldOwner(config, owner, null, [events])
    else if ((browsersOfPerson.all(siteId, owner.id) as string[]).length > 1) onSeveralBrowsers.set(owner.id, owner)
    else yield withCompany(foldOwner(config, owner, companyOfPerson(owner.id), [events]))
  }
  for (const owner of onSeveralBrowsers.values()) {
    const eventsByBrowser = (browsersOfPerson.all(siteId, owner.id) as string[])
      .map((visitorId) => (eventsOfVisitor.all(siteId, visitorId) as (string | number | null)[][]).map(eventFromValues))
      .filter((events) => events.length > 0)
    yield withCompany(foldOwner(config, owner, companyOfPerson(owner.id), eventsByBrowser))
  }

  for (const [id, entries] of companies) {
    const journeys = config.journeys.map((journey, j): JourneyFold | null => {
      if (!entries[j].length) return null
      const { entries: first, transitions, stage } = companyProgress(journey, [entries[j]])
      return { entries: first, transitions, stage, score: 0 }
    })
    yield { owner: { siteId, type: 'company', id }, companyId: null, sessions: [], sessionStages: [], journeys }
  }
}

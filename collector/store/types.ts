import type { EventKind, Properties } from '../../shared/wire'
import type { Company, Person } from '../identity/types'
import type { Session } from '../sessions/sessionize'
import type { StageEntry, StageTransition } from '../stages/progress'
import type { FunnelCounts, FunnelQuery } from '../reports/funnel'
import type { ListOptions, OwnerPage } from '../reports/owners'
import type { TouchCounts, TouchQuery } from '../reports/sources'

/** What a store cannot do (yet): the collector answers 501 with its message, which says what to do instead. */
export class NotSupportedByStore extends Error {}

/**
 * A request the store has queued but not finished yet (on ClickHouse, one the processor has not
 * got to): it will be carried out; the collector answers 202 with its message.
 */
export class QueuedInStore extends Error {
  constructor(message: string, readonly requestId: string) {
    super(message)
  }
}

/** A site that may send events: its public id goes in the tag; its keys are kept only as hashes. */
export interface Site {
  id: string
  domain: string
  writeKeyHash: string
  readTokenHash: string
  /** For erasure; null for a site made before admin tokens (waymark site admin-token makes one). */
  adminTokenHash: string | null
  createdAt: number
  /** Raw events older than this many days are deleted (null: kept). */
  retentionDays: number | null
  /** Events from browsers that send Global Privacy Control or Do Not Track are not stored. */
  honorPrivacySignals: boolean
}

export type SiteSettings = Partial<Pick<Site, 'writeKeyHash' | 'readTokenHash' | 'adminTokenHash' | 'retentionDays' | 'honorPrivacySignals'>>

/** What an erasure removed. */
export interface Erasure {
  personId: string
  visitorIds: number
  events: number
  sessions: number
}

/**
 * What events are stored as: the snippet's kinds, and `alias` (two ids of one person), which only
 * a server-side sender with the secret write key may send. A `page_engagement` is given to
 * appendEvents like an event but is never a row of its own: it is merged into its page view.
 */
export type StoredKind = EventKind | 'alias'

/** An event as stored: the wire event, checked, with what the collector derived on arrival. */
export interface StoredEvent {
  id: string
  siteId: string
  visitorId: string
  kind: StoredKind
  name: string | null
  /** When it happened: the browser's time, corrected for the browser's clock skew (ms since the epoch). */
  occurredAt: number
  /** When the collector received it (ms since the epoch). */
  receivedAt: number
  url: string
  path: string
  title: string | null
  /** The referring URL, kept only when it is outside the site (an internal referrer says nothing new). */
  referrer: string | null
  utmSource: string | null
  utmMedium: string | null
  utmCampaign: string | null
  utmTerm: string | null
  utmContent: string | null
  gclid: string | null
  fbclid: string | null
  msclkid: string | null
  liFatId: string | null
  screenWidth: number | null
  language: string | null
  timezone: string | null
  browser: string | null
  os: string | null
  /** desktop, mobile, tablet, tv, console, wearable or embedded. */
  device: string | null
  isBot: boolean
  props: Properties | null
  /**
   * The user id a server-side sender gave (Segment's `userId`): the event is that person's, and
   * its visitor id becomes theirs. The snippet's events carry none (their identify names it).
   */
  userId?: string | null
  /**
   * Page views only, once the tag reports the view left: the deepest scroll reached (in % of the
   * page's height, 100 for a page that fits the window) and the visible, active time in ms.
   */
  scrollDepth?: number | null
  engagedMs?: number | null
}

/** A trait's latest value and when it was set. */
export type TraitRecord = Record<string, { value: unknown; setAt: number }>

/** Activity over all of a person's visitor ids. */
export interface Activity {
  firstSeen: number | null
  lastSeen: number | null
  events: number
}

export interface PersonRecord extends Person, Activity {
  traits: TraitRecord
  visitorIds: string[]
  company: (Company & { traits: TraitRecord }) | null
}

export interface CompanyRecord extends Company {
  traits: TraitRecord
  people: (Person & Activity & { traits: TraitRecord })[]
}

export interface SessionRecord extends Session {
  durationMs: number
  personId: string | null
  companyId: string | null
  /** The furthest stage the session reached in each journey (null: outside the journey's scope). */
  stages: Record<string, string | null>
}

export interface SessionQuery {
  siteId: string
  /** Inclusive lower bound on startedAt. */
  from?: number
  /** Exclusive upper bound on startedAt. */
  to?: number
  visitorId?: string
  personId?: string
  /** With `stage`: only sessions whose furthest stage in this journey is `stage`. */
  journey?: string
  stage?: string
}

export type OwnerType = 'person' | 'visitor' | 'company'

/** An owner's way through one journey. */
export interface OwnerJourney {
  stage: string | null
  score: number
  entries: StageEntry[]
  transitions: StageTransition[]
}

/** How many owners of each kind have entered each stage of a journey. */
export interface StageCount {
  stage: string
  people: number
  visitors: number
  companies: number
}

export type PersonRef = { id: string } | { email: string } | { userId: string }
export type CompanyRef = { id: string } | { domain: string } | { groupId: string }

export interface EventQuery {
  siteId: string
  /** Every event of every visitor id of this person, before and after they were identified. */
  personId?: string
  /** The same for each of these people (a page of them, in one read). */
  personIds?: string[]
  /** Inclusive lower bound on occurredAt. */
  from?: number
  /** Exclusive upper bound on occurredAt. */
  to?: number
  visitorId?: string
  kinds?: StoredKind[]
  /**
   * false: leave each event's sessionId null, for a reader that never uses it. Finding an event's
   * session is about a third of reading it (a search of the visitor's sessions for each event).
   */
  sessionIds?: boolean
}

/** What the forms report reads of a form event. */
export type FormEvent = Pick<StoredEvent, 'kind' | 'name' | 'props'>

/** An event with the person and session it belongs to (null for bots and events not yet sessionized). */
export interface EventRecord extends StoredEvent {
  personId: string | null
  sessionId: string | null
}

/** What the content and paths reports read of a page view or a download. */
export type PageEvent = Pick<EventRecord, 'kind' | 'name' | 'path' | 'occurredAt' | 'personId' | 'visitorId' | 'isBot' | 'scrollDepth' | 'engagedMs'>

/** What a person or company has done, over all their sessions. */
export interface SessionActivity {
  firstSeen: number | null
  lastSeen: number | null
  sessions: number
  events: number
}

/** Where an owner stands in one journey. */
export interface JourneyPosition {
  journey: string
  stage: string | null
  stageEnteredAt: number | null
  score: number
}

/** People or companies of a site; with a range, only those with a session that started in it. */
export interface OwnerQuery {
  siteId: string
  journey: string
  from?: number
  to?: number
  /** Only those whose current stage in the journey is this one. */
  stage?: string
  /** Only these companies (companies), or the people of these companies (people). */
  companyIds?: string[]
  /** Only these people (people) or companies (companies): a page of them. */
  ids?: string[]
}

/** People or companies as a list asks for them; `stages` are the journey's, in order. */
export type OwnerListQuery = OwnerQuery & ListOptions & { stages: string[] }

/** A person as a list of them shows them at a moment: who, their company, and when they were last seen by then. */
export interface PersonAsOf {
  email: string | null
  userId: string | null
  companyId: string | null
  /** When their latest session that started before the moment ended (null: none had). */
  lastSeen: number | null
}

export interface PersonRow extends Person, SessionActivity, JourneyPosition {
  traits: Record<string, unknown>
  visitorIds: number
}

export interface CompanyRow extends Company, SessionActivity, JourneyPosition {
  traits: Record<string, unknown>
  people: number
}

export interface TransitionQuery {
  siteId: string
  journey?: string
  /** Inclusive lower bound on the transition's time. */
  from?: number
  /** Exclusive upper bound. */
  to?: number
  /** Only transitions into this stage. */
  stage?: string
  ownerType?: OwnerType
}

/** The session that made a move through a journey, as attribution needs it. */
export interface Touch {
  sessionId: string
  channel: string | null
  source: string | null
  medium: string | null
  campaign: string | null
}

export interface TransitionRecord extends Touch {
  siteId: string
  ownerType: OwnerType
  ownerId: string
  journey: string
  from: string | null
  to: string
  at: number
}

/** Who moved to a further stage, and when. */
export type StageMove = Pick<TransitionRecord, 'ownerType' | 'ownerId' | 'at'>

/** When an owner first entered a stage, and by which touch. */
export interface StageEntryRecord extends Touch {
  ownerType: OwnerType
  ownerId: string
  stage: string
  at: number
  page: string | null
}

/** Who a stage alert is about: people, companies, or both. */
export type AlertOwner = 'person' | 'company' | 'both'

/**
 * A webhook: a POST when a person or company enters a stage of a journey (`stage`), or once a
 * UTC day with the people stalled in the journey (`stalled`). The secret signs each POST, so it
 * is kept as it is (not hashed): the collector needs it to sign.
 */
export interface AlertHook {
  id: string
  siteId: string
  kind: 'stage' | 'stalled'
  journey: string
  /** The stage entered (stage hooks); null for stalled hooks. */
  stage: string | null
  owner: AlertOwner
  url: string
  secret: string
  /** Stalled hooks: days in one stage that count as stalled. */
  stalledDays: number | null
  /** Only stage entries at or after this moment alert. */
  createdAt: number
}

/** Which sessions to read as touches: a range, and perhaps only some companies' people's or some people's. */
export type SessionTouchQuery = Pick<SessionQuery, 'siteId' | 'from' | 'to'> & {
  companyIds?: string[]
  personIds?: string[]
  /** Only these sessions, by id (a page of them); in order of start. */
  ids?: string[]
}

/** Some owners of one type, by id. */
export interface OwnersOfType {
  type: OwnerType
  ids: string[]
}

/** Owners of some types who entered one of the stages asked for in a range (either end may be open). */
export interface OwnersEntering {
  types: OwnerType[]
  from?: number
  to?: number
}

/** A session as the reports that follow people's touches read it: when, by which channel, and whose. */
export interface SessionTouch {
  id: string
  startedAt: number
  endedAt: number
  channel: string
  visitorId: string
  personId: string | null
  companyId: string | null
}

/** When one owner entered each stage of a journey: what a funnel counts, without the touches. */
export interface OwnerStageTimes {
  ownerType: OwnerType
  ownerId: string
  /** For each stage asked for, in that order, when the owner entered it (null: not entered). */
  at: (number | null)[]
}

/** How many sessions reached a stage (their furthest in one journey) from one source. */
export interface SessionSourceCount {
  stage: string
  channel: string
  source: string
  medium: string
  campaign: string | null
  sessions: number
}

/** A hook with how its alerts went. */
export interface AlertHookStatus extends AlertHook {
  pending: number
  delivered: number
  gaveUp: number
  /** Stalled hooks: the UTC day (YYYY-MM-DD) of the latest daily alert queued. */
  lastDay: string | null
}

/** An alert for the outbox: its body is frozen now, and sent as it is on every attempt. */
export interface NewAlert {
  /** The alert's id, also in its body: the receiver's key for idempotency. */
  id: string
  hookId: string
  /** What the alert is about, once per hook: `day:2026-11-20` for a daily alert. */
  subject: string
  body: string
  createdAt: number
}

/** An alert due for an attempt, with what it is sent to and signed by. */
export interface DueAlert {
  id: string
  hookId: string
  url: string
  secret: string
  body: string
  /** Attempts made so far. */
  attempts: number
  createdAt: number
}

/** One attempt's outcome, and what follows it: delivered, a retry at a time, or giving up. */
export interface AlertAttempt {
  at: number
  durationMs: number
  /** The HTTP status, when there was an answer. */
  status: number | null
  /** Why there was no 2xx answer: the status's meaning, a network error or a timeout. */
  error: string | null
  next: { delivered: true } | { retryAt: number } | { gaveUp: true }
}

/** A line of the delivery log: one attempt, or an alert not tried yet (attempt 0). */
export interface AlertLogEntry {
  at: number
  alertId: string
  hookId: string
  siteId: string
  kind: AlertHook['kind']
  stage: string | null
  ownerType: 'person' | 'company' | null
  /** The owner as a person reads it: email, user id or domain (null once erased, or for daily alerts). */
  owner: string | null
  ownerId: string | null
  /** Daily alerts: how many people were stalled. */
  stalled: number | null
  attempt: number
  status: number | null
  error: string | null
  durationMs: number | null
  /** The alert as it stands now. */
  attempts: number
  nextAttemptAt: number | null
  deliveredAt: number | null
  gaveUpAt: number | null
}

/**
 * What reports read of a store: its reads alone, which a connection that only reads can answer
 * (on SQLite, a report thread's; see reports/threads.ts).
 */
export type StoreReads = Pick<
  Store,
  | 'findPerson' | 'findCompany' | 'queryEvents' | 'querySessions' | 'querySessionTouches' | 'countSessionSources' | 'foldFormEvents' | 'foldPageEvents'
  | 'queryPeople' | 'queryCompanies' | 'listPeople' | 'listCompanies' | 'queryTransitions' | 'foldStageMoves' | 'queryStageEntries' | 'queryStageTimes'
  | 'funnelCounts' | 'touchCounts' | 'ownerJourney' | 'peopleAsOf' | 'stageCounts' | 'firstSeen'
>

/**
 * Where events and sites live. Narrow on purpose, so that a server database can stand beside
 * SQLite: everything else in the collector speaks to this and to nothing below it.
 */
export interface Store {
  /**
   * Stores events; resolves only once they are durable. An id stored before is not stored again.
   * Identify and group events update the identity graph in the same commit.
   */
  appendEvents(events: StoredEvent[]): Promise<void>
  findPerson(siteId: string, ref: PersonRef): Promise<PersonRecord | undefined>
  findCompany(siteId: string, ref: CompanyRef): Promise<CompanyRecord | undefined>
  /**
   * Events in order of occurrence, streamed so memory stays flat whatever their number. Every
   * query streams in pages (on SQLite holding nothing open between them; on ClickHouse one query
   * read a chunk at a time), so any number can run beside each other and beside the writer.
   */
  queryEvents(query: EventQuery): AsyncIterable<EventRecord>
  /**
   * Resolves once sessions, people's and companies' stages reflect every committed event. They
   * follow the events' commit by a moment; the store's own reads settle first by themselves.
   */
  settle(): Promise<void>
  /**
   * The time to stamp an arriving event with (ms since the epoch). On SQLite, this machine's
   * clock; on ClickHouse, the server's as this process estimates it, so that collectors on
   * machines whose clocks disagree stamp alike and the processor's watermark means one moment
   * to all of them.
   */
  now(): number
  /** Sessions in order of start, streamed. */
  querySessions(query: SessionQuery): AsyncIterable<SessionRecord>
  /**
   * Sessions in order of start, as touches: the few columns of querySessions that the length,
   * cohorts, accounts and paths reports use, read without the rest (nor the sessions' stages).
   * With `companyIds` or `personIds`, only the sessions of those companies' people or of those
   * people: each one's in order of start (on SQLite, one after another).
   */
  querySessionTouches(query: SessionTouchQuery): AsyncIterable<SessionTouch>
  /**
   * The sessions that started in the range and reached a stage of the journey (those outside its
   * scope are left out), counted by their furthest stage there and by channel, source, medium and
   * campaign, in no set order; a store may give one group in several rows, which add up. Counted
   * where the sessions are stored.
   */
  countSessionSources(query: { siteId: string; journey: string; from?: number; to?: number }): Promise<SessionSourceCount[]>
  /**
   * People's form events (no bots') that happened in the range, each given to `add` in no set
   * order: the few columns the forms report folds, read by an index of form events alone.
   */
  foldFormEvents(query: { siteId: string; from?: number; to?: number }, add: (event: FormEvent) => void): Promise<void>
  /**
   * People's page views and downloads (not bots') that happened in the range, each given to `add`
   * in no set order: the few columns the content and paths reports fold, without the rest of the
   * event (at a million events, half the time of reading them whole).
   */
  foldPageEvents(query: { siteId: string; from?: number; to?: number }, add: (event: PageEvent) => void): Promise<void>
  /** People in order of id, with their activity and their place in one journey. */
  queryPeople(query: OwnerQuery): AsyncIterable<PersonRow>
  queryCompanies(query: OwnerQuery): AsyncIterable<CompanyRow>
  /**
   * The people list (see ownerPageFold, its definition): how many people the query names, how
   * many of them are stalled, and the first `limit` in the list's order. Found where the people
   * are stored: a year of a busy site has about a million.
   */
  listPeople(query: OwnerListQuery): Promise<OwnerPage<PersonRow>>
  listCompanies(query: OwnerListQuery): Promise<OwnerPage<CompanyRow>>
  /** Moves from stage to stage, in time order. */
  queryTransitions(query: TransitionQuery): AsyncIterable<TransitionRecord>
  /**
   * Moves from stage to stage in one journey in the range, as who moved and when, each given to
   * `add` in no set order: what the calls-to-action report folds, without the session that made each
   * move (on SQLite, an index alone; with the sessions, nine tenths of the time).
   */
  foldStageMoves(query: { siteId: string; journey: string; from?: number; to?: number }, add: (move: StageMove) => void): Promise<void>
  /**
   * Every owner's stage entries in one journey, grouped by owner (type, then id), each owner's in
   * time order; with `owners`, only those owners'.
   */
  queryStageEntries(siteId: string, journey: string, owners?: OwnersOfType): AsyncIterable<StageEntryRecord>
  /**
   * Every owner's entry times into the given stages of a journey, one row per owner, in no set
   * order. Folded into one row where the entries are stored, so a funnel reads a row an owner
   * rather than an entry with its session's touch. With `owners`, only those owners', or only the
   * owners of some types who entered one of the stages in a range (all their entries, in it or not).
   */
  queryStageTimes(siteId: string, journey: string, stages: string[], owners?: OwnersOfType | OwnersEntering): AsyncIterable<OwnerStageTimes>
  /** When each of some people, companies or visitors first came (their first session's start); those never seen are left out. */
  firstSeen(siteId: string, owners: OwnersOfType): Promise<Map<string, number>>
  /**
   * What the funnel of a journey counts (see funnelCountsFold, their definition): each stage's
   * entrants in the range and their times to the next stage, and the stalled people. Counted where
   * the entries are stored: only the counts and the movers' durations come back.
   */
  funnelCounts(siteId: string, journey: string, stages: string[], query: FunnelQuery): Promise<FunnelCounts>
  /**
   * What the sources report's attribution and flows count (see touchCountsFold, their definition),
   * given the journey's stages in order: the people who entered each attributed stage in the range
   * by first and last touch, and those who first came in it by first channel and furthest stage.
   */
  touchCounts(siteId: string, journey: string, stages: string[], query: TouchQuery): Promise<TouchCounts>
  ownerJourney(siteId: string, owner: { type: OwnerType; id: string }, journey: string): Promise<OwnerJourney>
  /** Some people by id, as they stood at `asOf` (a list's page of them, in one go); those not found are left out. */
  peopleAsOf(siteId: string, personIds: string[], asOf: number): Promise<Map<string, PersonAsOf>>
  stageCounts(siteId: string, journey: string): Promise<StageCount[]>
  /** Recomputes every session and stage of a site (or of all sites) from the stored events. */
  rebuild(siteId?: string): Promise<{ sites: number; visitors: number }>
  addSite(site: Site): Promise<void>
  updateSite(id: string, settings: SiteSettings): Promise<void>
  /**
   * Removes a person for good: their events (under every visitor id of theirs), sessions, stage
   * history, identity and traits; their company's stages are recomputed without them.
   */
  erasePerson(siteId: string, ref: PersonRef): Promise<Erasure | undefined>
  /** Deletes a site's raw events that happened before `before`; returns how many. */
  deleteEventsBefore(siteId: string, before: number): Promise<number>
  findSite(id: string): Promise<Site | undefined>
  listSites(): Promise<Site[]>
  /**
   * Stage alerts. A stage hook's alerts are queued by the store itself, in the commit that enters
   * the stage; a hook alerts once per owner, and only for entries at or after its creation.
   */
  addAlertHook(hook: AlertHook): Promise<void>
  listAlertHooks(siteId?: string): Promise<AlertHookStatus[]>
  /** Removes a hook with its queued alerts and their log; undefined when there is no such hook. */
  removeAlertHook(id: string): Promise<{ dropped: number } | undefined>
  /** Queues an alert unless the hook has one for its subject; says whether it did. */
  enqueueAlert(alert: NewAlert): Promise<boolean>
  /**
   * Takes up to `limit` alerts due at `now` for an attempt, each held until `leaseUntil` so no
   * other attempt starts meanwhile (nor after a crash mid-attempt, until the lease runs out).
   */
  claimAlerts(now: number, leaseUntil: number, limit: number): Promise<DueAlert[]>
  recordAlertAttempt(alertId: string, attempt: AlertAttempt): Promise<void>
  /** The latest attempts first, with the alerts not tried yet. */
  alertLog(query: { siteId?: string; limit: number }): Promise<AlertLogEntry[]>
  /** Whether the store can take writes now (for /readyz). */
  writable(): Promise<boolean>
  close(): Promise<void>
}

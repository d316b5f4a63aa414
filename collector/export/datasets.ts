import { runReport } from '../reports'
import type { Content, FileItem, PageItem } from '../reports/content'
import type { Account, CommitteeMember } from '../reports/accounts'
import type { Cohort } from '../reports/cohorts'
import type { ClickItem, Clicks, ContactItem } from '../reports/ctas'
import type { OwnerLength } from '../reports/length'
import type { PathCount, PathGroup } from '../reports/paths'
import type { WaymarkConfig } from '../stages/config'
import type { CompanyRow, EventRecord, PersonRow, SessionRecord, Store, TransitionRecord } from '../store/types'

/**
 * What a column holds, which decides how each format writes it: times as ISO 8601 UTC text in
 * CSV and NDJSON and as UTC timestamps (ms) in Parquet; json as JSON text in CSV and as nested
 * values in NDJSON and Parquet (a JSON column).
 */
export type ColumnType = 'text' | 'integer' | 'number' | 'time' | 'boolean' | 'json'
export type Cell = string | number | boolean | null | object

export interface Column<Row> {
  name: string
  type: ColumnType
  value: (row: Row) => Cell
}

/** What an export is filtered by: the site always; the rest where the dataset has it. */
export interface ExportFilter {
  siteId: string
  /** Inclusive, ms since the epoch. */
  from?: number
  /** Exclusive. */
  to?: number
  /** The journey whose stages the rows carry (and `stage` filters by). */
  journey: string
  stage?: string
}

export interface Dataset<Row> {
  name: string
  /** What the time range applies to, for the README and errors. */
  rangeOf: string
  /** Whether `stage` applies. */
  stages: boolean
  columns: Column<Row>[]
  rows(store: Store, filter: ExportFilter, config: WaymarkConfig): AsyncIterable<Row>
}

const text = <Row>(name: string, value: (row: Row) => string | null): Column<Row> => ({ name, type: 'text', value })
const integer = <Row>(name: string, value: (row: Row) => number | null): Column<Row> => ({ name, type: 'integer', value })
const decimal = <Row>(name: string, value: (row: Row) => number | null): Column<Row> => ({ name, type: 'number', value })
const time = <Row>(name: string, value: (row: Row) => number | null): Column<Row> => ({ name, type: 'time', value })
const boolean = <Row>(name: string, value: (row: Row) => boolean): Column<Row> => ({ name, type: 'boolean', value })
const json = <Row>(name: string, value: (row: Row) => object | null): Column<Row> => ({ name, type: 'json', value })

const sessions: Dataset<SessionRecord & { journey: string }> = {
  name: 'sessions',
  rangeOf: 'the session start',
  stages: true,
  columns: [
    text('session_id', (s) => s.id),
    text('site_id', (s) => s.siteId),
    text('visitor_id', (s) => s.visitorId),
    text('person_id', (s) => s.personId),
    text('company_id', (s) => s.companyId),
    time('started_at', (s) => s.startedAt),
    time('ended_at', (s) => s.endedAt),
    integer('duration_ms', (s) => s.durationMs),
    integer('engaged_ms', (s) => s.engagedMs),
    boolean('engaged', (s) => s.engaged),
    integer('pageviews', (s) => s.pageviews),
    integer('events', (s) => s.events),
    integer('conversions', (s) => s.conversions),
    text('entry_url', (s) => s.entryUrl),
    text('entry_path', (s) => s.entryPath),
    text('exit_path', (s) => s.exitPath),
    text('referrer', (s) => s.referrer),
    text('channel', (s) => s.channel),
    text('source', (s) => s.source),
    text('medium', (s) => s.medium),
    text('campaign', (s) => s.campaign),
    text('term', (s) => s.term),
    text('content', (s) => s.content),
    text('gclid', (s) => s.gclid),
    text('fbclid', (s) => s.fbclid),
    text('msclkid', (s) => s.msclkid),
    text('li_fat_id', (s) => s.liFatId),
    text('browser', (s) => s.browser),
    text('os', (s) => s.os),
    text('device', (s) => s.device),
    text('journey', (s) => s.journey),
    text('stage', (s) => s.stages[s.journey] ?? null),
  ],
  async *rows(store, { siteId, from, to, journey, stage }) {
    // Set on the store's fresh record rather than spread into a copy: a copy of a record this wide
    // falls out of V8's fast object layout, and every column read of it became several times slower.
    for await (const session of store.querySessions({ siteId, from, to, journey, stage })) yield Object.assign(session, { journey })
  },
}

const events: Dataset<EventRecord> = {
  name: 'events',
  rangeOf: 'the time the event happened',
  stages: false,
  columns: [
    text('event_id', (e) => e.id),
    text('site_id', (e) => e.siteId),
    text('visitor_id', (e) => e.visitorId),
    text('person_id', (e) => e.personId),
    text('user_id', (e) => e.userId ?? null),
    text('session_id', (e) => e.sessionId),
    text('kind', (e) => e.kind),
    text('name', (e) => e.name),
    time('occurred_at', (e) => e.occurredAt),
    time('received_at', (e) => e.receivedAt),
    text('url', (e) => e.url),
    text('path', (e) => e.path),
    text('title', (e) => e.title),
    text('referrer', (e) => e.referrer),
    text('utm_source', (e) => e.utmSource),
    text('utm_medium', (e) => e.utmMedium),
    text('utm_campaign', (e) => e.utmCampaign),
    text('utm_term', (e) => e.utmTerm),
    text('utm_content', (e) => e.utmContent),
    text('gclid', (e) => e.gclid),
    text('fbclid', (e) => e.fbclid),
    text('msclkid', (e) => e.msclkid),
    text('li_fat_id', (e) => e.liFatId),
    integer('screen_width', (e) => e.screenWidth),
    text('language', (e) => e.language),
    text('timezone', (e) => e.timezone),
    text('browser', (e) => e.browser),
    text('os', (e) => e.os),
    text('device', (e) => e.device),
    boolean('is_bot', (e) => e.isBot),
    json('properties', (e) => e.props),
    integer('scroll_depth', (e) => e.scrollDepth ?? null),
    integer('engaged_ms', (e) => e.engagedMs ?? null),
  ],
  rows: (store, { siteId, from, to }) => store.queryEvents({ siteId, from, to }),
}

/** Columns people and companies share: activity and their place in the journey. */
const ownerColumns = <Row extends PersonRow | CompanyRow>(): Column<Row>[] => [
  time('first_seen', (o) => o.firstSeen),
  time('last_seen', (o) => o.lastSeen),
  integer('sessions', (o) => o.sessions),
  integer('events', (o) => o.events),
  text('journey', (o) => o.journey),
  text('stage', (o) => o.stage),
  time('stage_entered_at', (o) => o.stageEnteredAt),
  json('traits', (o) => o.traits),
]

const people: Dataset<PersonRow> = {
  name: 'people',
  rangeOf: 'their sessions: people with a session that started in the range',
  stages: true,
  columns: [
    text('person_id', (p) => p.id),
    text('site_id', (p) => p.siteId),
    text('user_id', (p) => p.userId),
    text('email', (p) => p.email),
    text('company_id', (p) => p.companyId),
    time('created_at', (p) => p.createdAt),
    integer('visitor_ids', (p) => p.visitorIds),
    ...ownerColumns<PersonRow>(),
    // Score rules may give fractions of a point.
    decimal('score', (p) => p.score),
  ],
  rows: (store, filter) => store.queryPeople(filter),
}

const companies: Dataset<CompanyRow> = {
  name: 'companies',
  rangeOf: "their people's sessions: companies with a session that started in the range",
  stages: true,
  columns: [
    text('company_id', (c) => c.id),
    text('site_id', (c) => c.siteId),
    text('group_id', (c) => c.groupId),
    text('domain', (c) => c.domain),
    time('created_at', (c) => c.createdAt),
    integer('people', (c) => c.people),
    ...ownerColumns<CompanyRow>(),
  ],
  rows: (store, filter) => store.queryCompanies(filter),
}

const transitions: Dataset<TransitionRecord> = {
  name: 'transitions',
  rangeOf: 'the time of the move',
  stages: true,
  columns: [
    text('site_id', (t) => t.siteId),
    text('owner_type', (t) => t.ownerType),
    text('owner_id', (t) => t.ownerId),
    text('journey', (t) => t.journey),
    text('from_stage', (t) => t.from),
    text('to_stage', (t) => t.to),
    time('at', (t) => t.at),
    text('session_id', (t) => t.sessionId),
    text('channel', (t) => t.channel),
    text('source', (t) => t.source),
    text('medium', (t) => t.medium),
    text('campaign', (t) => t.campaign),
  ],
  rows: (store, { siteId, from, to, journey, stage }) => store.queryTransitions({ siteId, from, to, journey, stage }),
}

/** A report over the filter's range, every row of it (no top-n limit): an export is for the whole picture. */
const reportOf = <T>(name: string, store: Store, { siteId, from, to, journey }: ExportFilter, config: WaymarkConfig, extra: Record<string, string> = {}) =>
  runReport(store, config, siteId, name, {
    from: from === undefined ? undefined : new Date(from).toISOString(),
    to: to === undefined ? undefined : new Date(to).toISOString(),
    journey,
    limit: String(Number.MAX_SAFE_INTEGER),
    ...extra,
  }) as Promise<T>

type ContentRow = (PageItem | FileItem) & { type: 'page' | 'file' }
const content: Dataset<ContentRow> = {
  name: 'content',
  rangeOf: 'the time of the page view or download (the content report, every page and file)',
  stages: false,
  columns: [
    text('type', (r) => r.type),
    text('item', (r) => ('path' in r ? r.path : r.url)),
    integer('views', (r) => r.views),
    integer('visitors', (r) => r.visitors),
    integer('known', (r) => r.known),
    decimal('known_share', (r) => r.knownShare),
    integer('read_past_75', (r) => ('path' in r ? r.readPast75 : null)),
    decimal('read_75_share', (r) => ('path' in r ? r.read75Share : null)),
    integer('median_engaged_ms', (r) => ('path' in r ? r.medianEngagedMs : null)),
    integer('converters', (r) => r.influence.converters),
    integer('assisted', (r) => r.influence.assisted),
    integer('owners', (r) => r.influence.owners),
    decimal('influence', (r) => r.influence.ratio),
    json('views_by_stage', (r) => Object.fromEntries(r.stages.map((s) => [s.stage, s.views]))),
  ],
  async *rows(store, filter, config) {
    const report = await reportOf<Content>('content', store, filter, config)
    for (const page of report.pages) yield { ...page, type: 'page' }
    for (const file of report.files) yield { ...file, type: 'file' }
  },
}

type ClickRow = ClickItem & { type: 'cta' | 'contact' | 'outbound'; kind?: ContactItem['kind'] }
const ctas: Dataset<ClickRow> = {
  name: 'ctas',
  rangeOf: 'the time of the click (the CTA report, every call to action, contact and outbound link)',
  stages: false,
  columns: [
    text('type', (r) => r.type),
    text('name', (r) => r.name),
    text('contact_kind', (r) => r.kind ?? null),
    integer('clicks', (r) => r.clicks),
    integer('people', (r) => r.people),
    integer('submitted_form', (r) => r.submittedForm),
    integer('advanced', (r) => r.advanced),
    integer('went_on', (r) => r.wentOn),
    decimal('went_on_share', (r) => r.wentOnShare),
    json('by_channel', (r) => r.byChannel),
    json('by_stage', (r) => r.byStage),
  ],
  async *rows(store, filter, config) {
    const report = await reportOf<Clicks>('ctas', store, filter, config)
    for (const cta of report.ctas) yield { ...cta, type: 'cta' }
    for (const contact of report.contacts) yield { ...contact, type: 'contact' }
    for (const link of report.outbound) yield { ...link, type: 'outbound' }
  },
}

const length: Dataset<OwnerLength> = {
  name: 'length',
  rangeOf: 'when the stage was entered (the journey length report, one row per person or company and stage)',
  stages: false,
  columns: [
    text('owner_type', (r) => r.ownerType),
    text('owner_id', (r) => r.ownerId),
    text('stage', (r) => r.stage),
    time('first_touch_at', (r) => r.firstTouchAt),
    time('entered_at', (r) => r.enteredAt),
    integer('touches', (r) => r.touches),
    decimal('days', (r) => r.days),
    integer('channels', (r) => r.channels),
  ],
  async *rows(store, filter, config) {
    yield* (await reportOf<{ owners: OwnerLength[] }>('length', store, filter, config, { owners: 'all' })).owners
  },
}

type MemberRow = CommitteeMember & { account: Account }
const accounts: Dataset<MemberRow> = {
  name: 'accounts',
  rangeOf: "the companies' people's sessions (the accounts report: one row per company and person)",
  stages: false,
  columns: [
    text('company_id', (r) => r.account.companyId),
    text('company', (r) => r.account.name),
    text('domain', (r) => r.account.domain),
    text('company_stage', (r) => r.account.stage),
    integer('company_people', (r) => r.account.people),
    integer('engaged_people', (r) => r.account.engagedPeople),
    json('company_traits', (r) => r.account.traits),
    integer('company_touches', (r) => r.account.length?.touches ?? null),
    decimal('company_days', (r) => r.account.length?.days ?? null),
    integer('company_channels', (r) => r.account.length?.channels ?? null),
    text('person_id', (r) => r.personId),
    text('person', (r) => r.name),
    text('role', (r) => r.role),
    text('person_stage', (r) => r.stage),
    time('first_seen', (r) => r.firstSeen),
    time('last_seen', (r) => r.lastSeen),
    boolean('engaged', (r) => r.engaged),
    boolean('came_first', (r) => r.cameFirst),
    boolean('requested', (r) => r.requested),
    boolean('moved_to_goal', (r) => r.movedToGoal),
  ],
  async *rows(store, filter, config) {
    for (const account of (await reportOf<{ accounts: Account[] }>('accounts', store, filter, config)).accounts)
      for (const member of account.members) yield { ...member, account }
  },
}

type PathRow = PathCount & { group: 'reached' | 'not_reached'; kind: 'channels' | 'content' }
const paths: Dataset<PathRow> = {
  name: 'paths',
  rangeOf: 'the first touch (the paths report, every path)',
  stages: false,
  columns: [
    text('group', (r) => r.group),
    text('kind', (r) => r.kind),
    text('path', (r) => r.path.join(' > ')),
    integer('people', (r) => r.count),
    decimal('share', (r) => r.share),
  ],
  async *rows(store, filter, config) {
    const report = await reportOf<{ reached: PathGroup; notReached: PathGroup }>('paths', store, filter, config)
    for (const [group, paths] of [['reached', report.reached], ['not_reached', report.notReached]] as const)
      for (const kind of ['channels', 'content'] as const) for (const path of paths[kind]) yield { ...path, group, kind }
  },
}

type CohortRow = { ownerType: string; month: string; size: number; stage: string; days: number; eligible: number; reached: number; share: number | null }
const cohorts: Dataset<CohortRow> = {
  name: 'cohorts',
  rangeOf: 'the first touch (the cohorts report: one row per cohort, stage and window)',
  stages: false,
  columns: [
    text('owner_type', (r) => r.ownerType),
    text('month', (r) => r.month),
    integer('size', (r) => r.size),
    text('stage', (r) => r.stage),
    integer('within_days', (r) => r.days),
    integer('eligible', (r) => r.eligible),
    integer('reached', (r) => r.reached),
    decimal('share', (r) => r.share),
  ],
  async *rows(store, filter, config) {
    const report = await reportOf<{ people: Cohort[]; companies: Cohort[] }>('cohorts', store, filter, config)
    for (const [ownerType, list] of [['person', report.people], ['company', report.companies]] as const)
      for (const cohort of list) for (const s of cohort.stages) for (const w of s.within) yield { ownerType, month: cohort.month, size: cohort.size, stage: s.stage, ...w }
  },
}

export const DATASETS = { sessions, events, people, companies, transitions, content, ctas, length, accounts, paths, cohorts } as const
export type DatasetName = keyof typeof DATASETS
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[]

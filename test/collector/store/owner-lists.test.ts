import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownerPageOf, type OwnerPage } from '../../../collector/reports/owners'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import type { OwnerListQuery, Store, StoredEvent } from '../../../collector/store/types'
import { openSqliteStore } from '../../../collector/store/sqlite'
import { BACK_TO_SCHEMA_15, BACK_TO_SCHEMA_16, BACK_TO_SCHEMA_17, BACK_TO_SCHEMA_18, BACK_TO_SCHEMA_19, BACK_TO_SCHEMA_20, BACK_TO_SCHEMA_21 } from '../../fixtures/older-schemas'
import { removeStore, storeWithTraffic, type TrafficStore } from '../../fixtures/store-file'

const DAY = 86_400_000
const START = Date.UTC(2026, 2, 1)
const STAGES = DEFAULT_JOURNEY.stages.map((s) => s.name)

/** A page by what identifies its rows, in order: what the lists must agree on. */
const shown = (page: OwnerPage<{ id: string; stage: string | null; lastSeen: number | null; sessions: number }>) => ({
  total: page.total,
  stalled: page.stalled,
  rows: page.rows.map((r) => `${r.id} ${r.stage} ${r.lastSeen} ${r.sessions}`),
})

// The store finds a list's page from its indexes: the stalled from stage entries, the rest by
// walking known people's sessions back from the latest. Its page must be the one of folding every
// person or company in turn, for any range, stage, threshold and length.
describe('the SQLite store: the people and companies lists equal their definition', () => {
  let held: TrafficStore
  let store: Store
  let siteId: string
  const base = (siteId: string) => ({ siteId, journey: DEFAULT_JOURNEY.name, stages: STAGES, last: STAGES.at(-1)!, asOf: START + 60 * DAY, stalledAfterMs: 14 * DAY })
  const cases: [string, Partial<OwnerListQuery>][] = [
    ['the first 20, all time', { limit: 20 }],
    ['every one (past the last seen, to those never seen)', { limit: 100_000 }],
    ['none stalled: the most recently seen, ties by id', { limit: 1, stalledAfterMs: 1000 * DAY }],
    ['none stalled: the 37 most recently seen', { limit: 37, stalledAfterMs: 1000 * DAY }],
    ['those who came in a fortnight', { limit: 50, from: START + 7 * DAY, to: START + 21 * DAY }],
    ['those who came in a fortnight, none stalled, every one', { limit: 100_000, from: START + 7 * DAY, to: START + 21 * DAY, stalledAfterMs: 1000 * DAY }],
    ['at one stage', { limit: 30, stage: 'decision' }],
    ['at a later stage, in a range', { limit: 30, stage: 'purchase', from: START + 10 * DAY }],
    ['at the last stage (none stalled there)', { limit: 30, stage: STAGES.at(-1) }],
    ['at a stage, judged before most of the traffic', { limit: 10, stage: 'decision', asOf: START + 12 * DAY + 5 }],
  ]

  // Two people last seen at the same moment, after everyone else: the first place is a tie.
  const ties = (events: StoredEvent[]): StoredEvent[] => {
    const last = START + 200 * DAY
    const model = events.find((e) => e.kind === 'pageview' && !e.isBot)!
    return ['tie-a', 'tie-b'].flatMap((visitorId) => [
      { ...model, id: `${visitorId}-view`, visitorId, occurredAt: last, receivedAt: last },
      { ...model, id: `${visitorId}-identify`, visitorId, kind: 'identify' as const, name: `${visitorId}@example.com`, props: null, occurredAt: last, receivedAt: last },
    ])
  }

  beforeAll(async () => {
    held = await storeWithTraffic({ visitors: 900, seed: 53, start: START, more: ties })
    ;({ store, siteId } = held)
    // A person and a company never seen (made by a server-side call, say): listed last.
    const db = new Database(held.path)
    db.prepare("INSERT INTO people (id, site_id, email, created_at) VALUES ('0-never-seen', ?, 'never@seen.example', 0)").run(siteId)
    db.prepare("INSERT INTO companies (id, site_id, domain, created_at) VALUES ('0-never-seen', ?, 'never-seen.example', 0)").run(siteId)
    db.close()
  })
  afterAll(() => removeStore(held))

  it.each(cases)('people: %s', async (_, options) => {
    const query = { ...base(siteId), limit: 100, ...options }
    const listed = shown(await store.listPeople(query))
    expect(listed).toEqual(shown(await ownerPageOf(store.queryPeople(query), query)))
    // The generated traffic brings no one to the last stage.
    if (options.stage !== STAGES.at(-1)) expect(listed.rows.length).toBeGreaterThan(0)
  })

  it.each(cases)('companies: %s', async (_, options) => {
    const query = { ...base(siteId), limit: 100, ...options }
    expect(shown(await store.listCompanies(query))).toEqual(shown(await ownerPageOf(store.queryCompanies(query), query)))
  })

  it('lists the stalled first and, in full, those never seen last', async () => {
    const query = { ...base(siteId), limit: 100_000 }
    const { rows, stalled, total } = await store.listPeople(query)
    expect(stalled).toBeGreaterThan(10)
    expect(total).toBe(rows.length)
    expect(rows.at(-1)!.id).toBe('0-never-seen')
  })

  it('in a file an older Waymark wrote (schema 15, no index of furthest entries): the same pages once it opens', async () => {
    const before = await Promise.all(cases.map(([, options]) => store.listPeople({ ...base(siteId), limit: 100, ...options }).then(shown)))
    await store.close()
    const older = new Database(held.path)
    older.exec(BACK_TO_SCHEMA_21 + BACK_TO_SCHEMA_20 + BACK_TO_SCHEMA_19 + BACK_TO_SCHEMA_18 + BACK_TO_SCHEMA_17 + BACK_TO_SCHEMA_16 + BACK_TO_SCHEMA_15)
    older.close()
    store = held.store = openSqliteStore(held.path)
    for (const [i, [, options]] of cases.entries()) expect(shown(await store.listPeople({ ...base(siteId), limit: 100, ...options }))).toEqual(before[i])
  })
})

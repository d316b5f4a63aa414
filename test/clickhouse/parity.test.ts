import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATASET_NAMES } from '../../collector/export/datasets'
import { exportRows, parseExport } from '../../collector/export/export'
import { runReport, REPORTS } from '../../collector/reports'
import { formsFold } from '../../collector/reports/forms'
import { addSite } from '../../collector/sites'
import { DEFAULT_CONFIG } from '../../collector/stages/config'
import { openClickHouseStore } from '../../collector/store/clickhouse'
import { connectClickHouse } from '../../collector/store/clickhouse/connection'
import { runProcessor } from '../../collector/store/clickhouse/processor'
import { openSqliteStore } from '../../collector/store/sqlite'
import type { Store, StoredEvent } from '../../collector/store/types'
import { eventMaker, generateTraffic, random, shuffledBatches, type GeneratedVisitor } from '../fixtures/traffic'
import { startClickHouse, startClickHouseCluster, type RunningClickHouse } from './server'

const SEPTEMBER = Date.UTC(2026, 8, 1)
const AS_OF = Date.UTC(2026, 9, 20)
const RANGE = { from: '2026-09-01', to: '2026-10-20' }

/** Page views left with their engagement reported, some twice, and a few forms filled field by field. */
function moreOfAVisit(siteId: string, events: StoredEvent[]): StoredEvent[] {
  const rnd = random(77)
  const event = eventMaker(siteId, rnd)
  const extra: StoredEvent[] = []
  const pageviews = events.filter((e) => e.kind === 'pageview')
  for (const [i, view] of pageviews.entries()) {
    if (i % 3 === 0) continue
    const report = (depth: number, ms: number) =>
      event(view.visitorId, view.occurredAt + 30_000, { kind: 'page_engagement', name: view.id, path: view.path, props: { scrollDepth: depth, engagedMs: ms } })
    extra.push(report(40 + (i % 50), 5_000 + i * 10))
    if (i % 5 === 0) extra.push(report(90, 2_000))
  }
  for (const start of events.filter((e) => e.kind === 'form_start'))
    for (const [n, field] of ['email', 'company', 'role'].entries())
      extra.push(event(start.visitorId, start.occurredAt + 1 + n, { kind: 'form_field', name: start.name, path: start.path, props: { field, type: 'text' } }))
  for (const view of pageviews.filter((e) => e.path === '/pricing'))
    extra.push(event(view.visitorId, view.occurredAt + 2_000, { kind: 'cta', name: 'Book demo', path: view.path, props: { placement: 'hero' } }))
  const lead = events.find((e) => e.kind === 'identify' && !e.name!.endsWith('@gmail.com'))!
  extra.push(event(lead.visitorId, lead.occurredAt + 5, { kind: 'group', name: 'acme-account', path: lead.path, props: { name: 'Acme', industry: 'software' } }))
  extra.push(event('bot-visitor', SEPTEMBER + 86_400_000, { isBot: true, browser: 'Googlebot' }))
  extra.push(event('bot-visitor', SEPTEMBER + 2 * 86_400_000, { kind: 'form_start', name: 'demo', isBot: true, browser: 'Googlebot' }))
  return extra
}

describe.each([
  ['one ClickHouse server', startClickHouse],
  ['two ClickHouse shards behind Distributed tables', () => startClickHouseCluster(2)],
])('%s and SQLite, fed the same month of traffic, answer the same', (_, start: () => Promise<RunningClickHouse>) => {
  let clickhouse: RunningClickHouse
  let dir: string
  let sqlite: Store
  let ch: Store
  let siteId: string
  let visitors: GeneratedVisitor[]
  const stopProcessor = new AbortController()
  let processor: Promise<void>

  beforeAll(async () => {
    clickhouse = await start()
    dir = mkdtempSync(join(tmpdir(), 'waymark-parity-'))
    sqlite = openSqliteStore(join(dir, 'waymark.db'))
    // Small chunks: every streamed read spans many of them.
    ch = await openClickHouseStore(clickhouse.storeUrl('parity'), { pageRows: 150 })
    const { site } = await addSite(sqlite, 'example.com')
    await ch.addSite(site)
    siteId = site.id
    const traffic = generateTraffic({ siteId, visitors: 300, seed: 12, start: SEPTEMBER })
    visitors = traffic.visitors
    // In small batches, out of order, each received as it is sent (as a live collector stamps them).
    const events = [...traffic.events, ...moreOfAVisit(siteId, traffic.events)]
    processor = runProcessor({ storeUrl: clickhouse.storeUrl('parity'), workPath: join(dir, 'processor.db'), signal: stopProcessor.signal })
    const batches = shuffledBatches(events, 3)
    for (let i = 0; i < batches.length; i += 50) {
      const group = batches.slice(i, i + 50).map((batch) => batch.map((e) => ({ ...e, receivedAt: Date.now() })))
      for (const batch of group) await sqlite.appendEvents(batch)
      // A collector commits the batches that arrive together in one insert.
      await ch.appendEvents(group.flat())
    }
    await Promise.all([sqlite.settle(), ch.settle()])
  }, 120_000)

  afterAll(async () => {
    stopProcessor.abort()
    await processor
    await ch?.close()
    await sqlite?.close()
    await clickhouse?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const report = (store: Store, name: string, params: Record<string, string> = {}) =>
    runReport(store, DEFAULT_CONFIG, siteId, name, { ...RANGE, ...params }, AS_OF)

  it("people's form events read for the forms report, for ranges cutting the month", async () => {
    const forms = async (store: Store, range: { from?: number; to?: number }) => {
      const fold = formsFold()
      let read = 0
      await store.foldFormEvents({ siteId, ...range }, (event) => {
        read++
        fold.add(event)
      })
      return { read, forms: fold.result() }
    }
    const day = 86_400_000
    for (const range of [{}, { from: SEPTEMBER + 5 * day + 1, to: SEPTEMBER + 12 * day }, { to: SEPTEMBER + 9 * day }]) {
      const fromSqlite = await forms(sqlite, range)
      expect(fromSqlite.read).toBeGreaterThan(10)
      expect(await forms(ch, range)).toEqual(fromSqlite)
    }
  })

  it.each(REPORTS.filter((name) => name !== 'timeline'))('the %s report', async (name) => {
    const [fromSqlite, fromClickHouse] = [await report(sqlite, name), await report(ch, name)]
    expect(JSON.stringify(fromSqlite).length).toBeGreaterThan(100)
    expect(fromClickHouse).toEqual(fromSqlite)
  })

  it('the accounts report with a few accounts and a few of each committee listed; cohorts, paths and length over part of the month', async () => {
    const params = { limit: '3', members: '2' }
    const fromSqlite = await report(sqlite, 'accounts', params)
    expect((fromSqlite as { accounts: { people: number; members: unknown[] }[] }).accounts.some((a) => a.people > a.members.length)).toBe(true)
    expect(await report(ch, 'accounts', params)).toEqual(fromSqlite)
    // Those who first came before the 10th are of neither report's range.
    const later = { from: new Date(SEPTEMBER + 9 * 86_400_000).toISOString() }
    for (const [name, params] of [['cohorts', later], ['paths', later], ['length', { ...later, owners: 'all' }]] as const) {
      const fromSqlite = await report(sqlite, name, params)
      expect(fromSqlite).not.toEqual(await report(sqlite, name))
      expect(await report(ch, name, params)).toEqual(fromSqlite)
    }
  })

  it("reads narrowed to some companies, their people, or some owners give the whole reads' rows of those, and when they first came", async () => {
    const collect = async <T>(rows: AsyncIterable<T>) => {
      const all: T[] = []
      for await (const row of rows) all.push(row)
      return all
    }
    const journey = DEFAULT_CONFIG.journeys[0].name
    for (const store of [sqlite, ch]) {
      const companies = (await collect(store.queryCompanies({ siteId, journey }))).slice(0, 3).map((c) => c.id)
      const people = await collect(store.queryPeople({ siteId, journey }))
      const theirs = people.filter((p) => p.companyId !== null && companies.includes(p.companyId)).map((p) => p.id)
      expect(theirs.length).toBeGreaterThan(1)
      expect((await collect(store.queryPeople({ siteId, journey, companyIds: companies }))).map((p) => p.id)).toEqual(theirs)
      expect((await collect(store.queryCompanies({ siteId, journey, companyIds: companies }))).map((c) => c.id)).toEqual(companies)
      // Each company's sessions in order of start, one company after another.
      const sessions = await collect(store.querySessionTouches({ siteId, to: AS_OF }))
      expect(await collect(store.querySessionTouches({ siteId, to: AS_OF, companyIds: companies }))).toEqual(companies.flatMap((id) => sessions.filter((s) => s.companyId === id)))
      const ofPeople = await collect(store.querySessionTouches({ siteId, to: AS_OF, personIds: theirs }))
      const byStart = (a: { startedAt: number; id: string }, b: { startedAt: number; id: string }) => a.startedAt - b.startedAt || a.id.localeCompare(b.id)
      expect(ofPeople.length).toBeGreaterThan(2)
      expect(ofPeople.sort(byStart)).toEqual(sessions.filter((s) => s.personId !== null && theirs.includes(s.personId)).sort(byStart))
      // Some sessions by id, in order of start, within the range asked for.
      const tenth = SEPTEMBER + 9 * 86_400_000
      const some = sessions.filter((_, i) => i % 7 === 0)
      expect(await collect(store.querySessionTouches({ siteId, from: tenth, to: AS_OF, ids: some.map((s) => s.id) }))).toEqual(some.filter((s) => s.startedAt >= tenth).sort(byStart))
      const events = await collect(store.queryEvents({ siteId, sessionIds: false }))
      const ofTheirs = await collect(store.queryEvents({ siteId, sessionIds: false, personIds: theirs }))
      expect(ofTheirs.length).toBeGreaterThan(10)
      expect(ofTheirs).toEqual(events.filter((e) => e.personId !== null && theirs.includes(e.personId)))
      const stages = DEFAULT_CONFIG.journeys[0].stages.map((s) => s.name)
      const times = await collect(store.queryStageTimes(siteId, journey, stages))
      const theirTimes = await collect(store.queryStageTimes(siteId, journey, stages, { type: 'person', ids: theirs }))
      const byId = (a: { ownerId: string }, b: { ownerId: string }) => a.ownerId.localeCompare(b.ownerId)
      expect(theirTimes.sort(byId)).toEqual(times.filter((t) => t.ownerType === 'person' && theirs.includes(t.ownerId)).sort(byId))
      // Those of some types with an entry from the 10th on: every entry of theirs, in the range or not.
      const entering = await collect(store.queryStageTimes(siteId, journey, stages, { types: ['person', 'company'], from: tenth }))
      const entered = times.filter((t) => t.ownerType !== 'visitor' && t.at.some((at) => at !== null && at >= tenth))
      expect(entered.length).toBeGreaterThan(10)
      expect(entering.sort(byId)).toEqual(entered.sort(byId))
      expect(Object.fromEntries(await store.firstSeen(siteId, { type: 'person', ids: theirs }))).toEqual(
        Object.fromEntries(people.filter((p) => theirs.includes(p.id) && p.firstSeen !== null).map((p) => [p.id, p.firstSeen])),
      )
      const companyRows = await collect(store.queryCompanies({ siteId, journey, companyIds: companies }))
      expect(Object.fromEntries(await store.firstSeen(siteId, { type: 'company', ids: companies }))).toEqual(
        Object.fromEntries(companyRows.filter((c) => c.firstSeen !== null).map((c) => [c.id, c.firstSeen])),
      )
      const visitors = [...new Set(sessions.filter((s) => s.personId === null).map((s) => s.visitorId))].slice(0, 20)
      const firstOfVisitors = new Map<string, number>()
      for (const s of sessions) if (visitors.includes(s.visitorId)) firstOfVisitors.set(s.visitorId, Math.min(firstOfVisitors.get(s.visitorId) ?? Infinity, s.startedAt))
      expect(visitors.length).toBe(20)
      expect(await store.firstSeen(siteId, { type: 'visitor', ids: visitors })).toEqual(firstOfVisitors)
      const entries = await collect(store.queryStageEntries(siteId, journey))
      expect(await collect(store.queryStageEntries(siteId, journey, { type: 'person', ids: theirs }))).toEqual(entries.filter((e) => e.ownerType === 'person' && theirs.includes(e.ownerId)))
    }
  })

  it.each(['funnel', 'sources'])('the %s report over part of the month, whose edges cut through sessions and journeys', async (name) => {
    const params = { from: '2026-09-10', to: '2026-09-24T12:00:00Z' }
    const [a, b] = [await report(sqlite, name, params), await report(ch, name, params)]
    expect(a).not.toEqual(await report(sqlite, name))
    expect(b).toEqual(a)
  })

  it('the funnel’s stalled people, each looked up as they stood at the report’s moment', async () => {
    const params = { stalledDays: '14', limit: '500' }
    const [a, b] = [await report(sqlite, 'funnel', params), await report(ch, 'funnel', params)]
    const stalled = (a as { stalled: { people: { lastSeen: number | null; email: string | null }[] } }).stalled.people
    expect(stalled.length).toBeGreaterThan(10)
    expect(stalled.filter((p) => p.lastSeen !== null && p.email !== null).length).toBe(stalled.length)
    expect(b).toEqual(a)
  })

  it('each known person’s timeline, and a company’s', async () => {
    const known = visitors.filter((v) => v.email)
    expect(known.length).toBeGreaterThan(50)
    for (const v of known.slice(0, 40)) {
      const [a, b] = [await report(sqlite, 'timeline', { email: v.email! }), await report(ch, 'timeline', { email: v.email! })]
      expect(b).toEqual(a)
    }
    const domain = known.find((v) => !v.email!.endsWith('@gmail.com'))!.email!.split('@')[1]
    expect(await report(ch, 'timeline', { domain })).toEqual(await report(sqlite, 'timeline', { domain }))
  })

  const csv = async (store: Store, dataset: string) => {
    let text = ''
    const decoder = new TextDecoder()
    for await (const chunk of exportRows(store, parseExport(siteId, DEFAULT_CONFIG, { dataset, format: 'csv' }))) text += decoder.decode(chunk, { stream: true })
    return text
  }

  it.each(DATASET_NAMES)('the %s export, byte for byte', async (dataset) => {
    const [a, b] = [await csv(sqlite, dataset), await csv(ch, dataset)]
    expect(a.split('\n').length).toBeGreaterThan(2)
    expect(b).toBe(a)
  })

  it('cancels a read its reader leaves early, and keeps answering', async () => {
    for (let round = 0; round < 20; round++) {
      let read = 0
      for await (const _ of ch.queryEvents({ siteId, sessionIds: false })) if (++read === 5) break
    }
    expect(await csv(ch, 'events')).toBe(await csv(sqlite, 'events'))
  })

  it('keeps one visitor’s events on one shard, and every shard holds some (on a cluster)', async () => {
    const servers = (clickhouse as RunningClickHouse & { servers?: RunningClickHouse[] }).servers
    if (!servers) return
    const perShard = []
    for (const server of servers) {
      const shard = connectClickHouse(server.storeUrl('parity'))
      perShard.push(await shard.rows<{ visitor_id: string; n: number }>('SELECT visitor_id, count() AS n FROM parity.events_local GROUP BY visitor_id'))
      await shard.close()
    }
    expect(perShard.every((rows) => rows.length > 20)).toBe(true)
    const visitors = perShard.flat().map((r) => r.visitor_id)
    expect(new Set(visitors).size).toBe(visitors.length)
  })

  it('people, companies and journeys, looked up one by one', async () => {
    for (const v of visitors.filter((v) => v.email).slice(0, 30)) {
      const [a, b] = [await sqlite.findPerson(siteId, { email: v.email! }), await ch.findPerson(siteId, { email: v.email! })]
      expect(b).toEqual(a)
      for (const journey of DEFAULT_CONFIG.journeys)
        expect(await ch.ownerJourney(siteId, { type: 'person', id: a!.id }, journey.name)).toEqual(await sqlite.ownerJourney(siteId, { type: 'person', id: a!.id }, journey.name))
    }
    const company = await sqlite.findCompany(siteId, { groupId: 'acme-account' })
    expect(company?.people.length).toBeGreaterThan(0)
    expect(await ch.findCompany(siteId, { groupId: 'acme-account' })).toEqual(company)
    for (const journey of DEFAULT_CONFIG.journeys) expect(await ch.stageCounts(siteId, journey.name)).toEqual(await sqlite.stageCounts(siteId, journey.name))
  })

  it('erases a person the same way (their company’s stages recomputed without them), and answers the same afterwards', async () => {
    const member = (await sqlite.findCompany(siteId, { groupId: 'acme-account' }))!.people[0]
    const ref = { email: member.email! }
    const [a, b] = [await sqlite.erasePerson(siteId, ref), await ch.erasePerson(siteId, ref)]
    expect(a!.events).toBeGreaterThan(0)
    expect(b).toEqual(a)
    expect(await ch.findPerson(siteId, ref)).toBeUndefined()
    for (const name of ['funnel', 'sources', 'forms', 'content']) expect(await report(ch, name)).toEqual(await report(sqlite, name))
    expect(await ch.findCompany(siteId, { groupId: 'acme-account' })).toEqual(await sqlite.findCompany(siteId, { groupId: 'acme-account' }))
    for (const journey of DEFAULT_CONFIG.journeys) expect(await ch.stageCounts(siteId, journey.name)).toEqual(await sqlite.stageCounts(siteId, journey.name))
    for (const dataset of ['events', 'sessions', 'people', 'companies', 'transitions']) expect(await csv(ch, dataset)).toBe(await csv(sqlite, dataset))
  })

  it('rebuilds sessions and stages from the stored events to the same as before, as SQLite does', async () => {
    const before = await report(ch, 'funnel')
    const [a, b] = [await sqlite.rebuild(siteId), await ch.rebuild(siteId)]
    expect(a.visitors).toBeGreaterThan(100)
    expect(b).toEqual(a)
    expect(await report(ch, 'funnel')).toEqual(before)
    expect(await csv(ch, 'sessions')).toBe(await csv(sqlite, 'sessions'))
  })
})

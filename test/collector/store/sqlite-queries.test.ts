import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../../collector/sites'
import { openSqliteStore } from '../../../collector/store/sqlite'
import type { Store } from '../../../collector/store/types'
import { withinRange } from '../../../collector/reports/stats'
import { generateTraffic } from '../../fixtures/traffic'

const collect = async <T>(rows: AsyncIterable<T>) => {
  const all: T[] = []
  for await (const row of rows) all.push(row)
  return all
}

// Reads are paged 2,000 rows at a time, each page starting where the last ended; a range's start
// is where the first page begins. These histories span several pages, with rows on the range's
// start itself, so a row lost or read twice at a page's edge or at the range's start shows.
describe('the SQLite store: ranged reads across pages', () => {
  let dir: string
  let store: Store
  let siteId: string
  let from: number
  let to: number

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-queries-'))
    store = openSqliteStore(join(dir, 'waymark.db'))
    siteId = (await addSite(store, 'example.com')).site.id
    const { events } = generateTraffic({ siteId, visitors: 3000, seed: 21, start: Date.UTC(2026, 2, 1) })
    const times = [...new Set(events.map((e) => e.occurredAt))].sort((a, b) => a - b)
    from = times[Math.floor(times.length / 5)]
    to = times[Math.floor((times.length * 4) / 5)]
    // More events at the range's start and end to the millisecond, each its own visitor.
    const edges = generateTraffic({ siteId, visitors: 40, seed: 22, start: Date.UTC(2026, 2, 1) }).events.map((e, i) => ({
      ...e,
      occurredAt: i % 2 ? from : to,
    }))
    for (let i = 0; i < events.length; i += 500) await store.appendEvents(events.slice(i, i + 500))
    await store.appendEvents(edges)
    await store.settle()
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const inRange = (at: number) => at >= from && at < to

  it('gives every event in the range once, in order, those at its start included', async () => {
    const all = await collect(store.queryEvents({ siteId, sessionIds: false }))
    const ranged = await collect(store.queryEvents({ siteId, from, to, sessionIds: false }))
    expect(all.length).toBeGreaterThan(3 * 2000)
    expect(ranged.length).toBeGreaterThan(2 * 2000)
    expect(ranged.filter((e) => e.occurredAt === from).length).toBeGreaterThan(20)
    expect(ranged.map((e) => e.id)).toEqual(all.filter((e) => inRange(e.occurredAt)).map((e) => e.id))
    const from2 = (await collect(store.queryEvents({ siteId, from, sessionIds: false }))).map((e) => e.id)
    expect(from2).toEqual(all.filter((e) => e.occurredAt >= from).map((e) => e.id))
  })

  it('gives every session that started in the range once, in order', async () => {
    const all = await collect(store.querySessions({ siteId }))
    const ranged = await collect(store.querySessions({ siteId, from, to }))
    expect(ranged.length).toBeGreaterThan(2000)
    expect(ranged.some((s) => s.startedAt === from)).toBe(true)
    expect(ranged.map((s) => s.id)).toEqual(all.filter((s) => inRange(s.startedAt)).map((s) => s.id))
  })

  it('gives every session that started in the range once, in order, as a touch with its person and company', async () => {
    const sessions = await collect(store.querySessions({ siteId, from, to }))
    const touches = await collect(store.querySessionTouches({ siteId, from, to }))
    expect(sessions.length).toBeGreaterThan(2000)
    expect(touches.some((t) => t.personId !== null && t.companyId !== null)).toBe(true)
    expect(touches).toEqual(sessions.map((s) => ({ id: s.id, startedAt: s.startedAt, endedAt: s.endedAt, channel: s.channel, visitorId: s.visitorId, personId: s.personId, companyId: s.companyId })))
  })

  it('counts the sessions that started in the range by stage and source, as reading them does', async () => {
    const counted = await store.countSessionSources({ siteId, journey: 'b2b', from, to })
    const expected = new Map<string, number>()
    const add = (totals: Map<string, number>, s: { stage: string; channel: string; source: string; medium: string; campaign: string | null }, count: number) => {
      const key = JSON.stringify([s.stage, s.channel, s.source, s.medium, s.campaign])
      totals.set(key, (totals.get(key) ?? 0) + count)
    }
    for await (const s of store.querySessions({ siteId, from, to })) if (s.stages.b2b) add(expected, { ...s, stage: s.stages.b2b }, 1)
    expect(expected.size).toBeGreaterThan(3)
    const total = new Map<string, number>()
    for (const c of counted) add(total, c, c.sessions)
    expect(new Map([...total].sort())).toEqual(new Map([...expected].sort()))
  })

  it('gives every stage move made in the range once, in order', async () => {
    const all = await collect(store.queryTransitions({ siteId, journey: 'b2b' }))
    const ranged = await collect(store.queryTransitions({ siteId, journey: 'b2b', from, to }))
    expect(ranged.length).toBeGreaterThan(0)
    const key = (t: { ownerType: string; ownerId: string; to: string; at: number }) => `${t.ownerType}:${t.ownerId}:${t.to}:${t.at}`
    expect(ranged.map(key)).toEqual(all.filter((t) => inRange(t.at)).map(key))
  })

  it('gives every owner’s stage times once, each as their stage entries say', async () => {
    const stages = ['awareness', 'consideration', 'decision', 'purchase', 'loyalty', 'advocacy']
    const times = await collect(store.queryStageTimes(siteId, 'b2b', stages))
    const expected = new Map<string, (number | null)[]>()
    for await (const e of store.queryStageEntries(siteId, 'b2b')) {
      const key = `${e.ownerType}:${e.ownerId}`
      const at = expected.get(key) ?? expected.set(key, stages.map(() => null)).get(key)!
      at[stages.indexOf(e.stage)] = e.at
    }
    expect(times.length).toBeGreaterThan(2000)
    expect(new Set(times.map((o) => o.ownerType))).toEqual(new Set(['person', 'visitor', 'company']))
    expect(new Map(times.map((o) => [`${o.ownerType}:${o.ownerId}`, o.at]))).toEqual(expected)
    expect(times.length).toBe(expected.size)
  })

  it('gives the stage times of the owners of some types who entered a stage in the range, each with every entry of theirs', async () => {
    const stages = ['awareness', 'consideration', 'decision', 'purchase', 'loyalty', 'advocacy']
    const times = await collect(store.queryStageTimes(siteId, 'b2b', stages))
    const key = (o: { ownerType: string; ownerId: string }) => `${o.ownerType}:${o.ownerId}`
    for (const range of [{ from, to }, { from }, { to }]) {
      const entering = await collect(store.queryStageTimes(siteId, 'b2b', stages, { types: ['person', 'company'], ...range }))
      const entered = times.filter((o) => o.ownerType !== 'visitor' && o.at.some((at) => at !== null && withinRange(range)(at)))
      expect(entered.length).toBeGreaterThan(100)
      expect(entered.some((o) => o.at.some((at) => at !== null && !withinRange(range)(at)))).toBe(true)
      expect(new Map(entering.map((o) => [key(o), o.at]))).toEqual(new Map(entered.map((o) => [key(o), o.at])))
      expect(entering.length).toBe(entered.length)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { funnelCountsFold, funnelFrom, type FunnelCounts, type FunnelQuery } from '../../../collector/reports/funnel'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import { nextEntryTimes } from '../../../collector/store/sqlite/journeys'
import type { OwnerStageTimes, OwnerType } from '../../../collector/store/types'
import { readStoredRows } from '../../fixtures/store-file'

const HOUR = 3_600_000
const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1)
/** The report's range: 30 days from T0; "stalled" is judged at its end. */
const RANGE = { from: T0, to: T0 + 30 * DAY }
const OPTIONS: Options = { ...RANGE, asOf: RANGE.to, stalledAfterMs: 14 * DAY }

/** awareness, consideration, decision, purchase, loyalty, advocacy */
const STAGES = DEFAULT_JOURNEY.stages.map((s) => s.name)

/** An owner who entered the journey's stages in order, at the times given (one per stage, from the first). */
const walk = (ownerType: OwnerType, ownerId: string, ...ats: number[]): OwnerStageTimes => ({
  ownerType,
  ownerId,
  at: STAGES.map((_, i) => ats[i] ?? null),
})
const person = (id: string, ...ats: number[]) => walk('person', id, ...ats)
const visitor = (id: string, ...ats: number[]) => walk('visitor', id, ...ats)
const company = (id: string, ...ats: number[]) => walk('company', id, ...ats)

interface Options {
  from?: number
  to?: number
  asOf: number
  stalledAfterMs: number
  /** How many stalled people to list (default 100). */
  limit?: number
}
type Counter = (owners: OwnerStageTimes[], query: FunnelQuery) => Promise<FunnelCounts>

/** The definition: each owner's stage times folded one by one. */
const byFold: Counter = async (owners, query) => {
  const fold = funnelCountsFold(STAGES, query)
  for (const owner of owners) fold.add(owner)
  return fold.result()
}

/** SQLite's own counting, over the owners' entries stored in a real file as the fold stores them. */
const bySqlite: Counter = (owners, query) =>
  readStoredRows(
    (db) => {
      const insert = db.prepare(
        `INSERT INTO stage_entries (site_id, owner_type, owner_id, journey, stage, entered_at, session_id, next_at) VALUES ('site', ?, ?, ?, ?, ?, 'session', ?)`,
      )
      for (const owner of owners) {
        const entries = STAGES.flatMap((stage, i) => (owner.at[i] === null ? [] : [{ stage, at: owner.at[i]! }]))
        const next = nextEntryTimes(DEFAULT_JOURNEY, entries)
        entries.forEach((e, i) => insert.run(owner.ownerType, owner.ownerId, DEFAULT_JOURNEY.name, e.stage, e.at, next[i]))
      }
    },
    (store) => store.funnelCounts('site', DEFAULT_JOURNEY.name, STAGES, query),
  )

describe.each([
  ['folded owner by owner', byFold],
  ['counted by SQLite', bySqlite],
] as const)('The funnel %s', (_, count) => {
  async function funnel(owners: OwnerStageTimes[], options: Options = OPTIONS) {
    const counts = await count(owners, { from: options.from, to: options.to, asOf: options.asOf, stalledBefore: options.asOf - options.stalledAfterMs, limit: options.limit ?? 100 })
    const { stages, stalled } = funnelFrom(DEFAULT_JOURNEY, counts, options.asOf)
    return { stages, stalled: stalled.people, total: stalled.total, stage: (name: string) => stages.find((s) => s.stage === name)! }
  }

  describe('The funnel', async () => {
    it('lists every stage of the journey in order, each with the next', async () => {
      const { stages } = await funnel([])
      expect(stages.map((s) => [s.stage, s.next])).toEqual([
        ['awareness', 'consideration'],
        ['consideration', 'decision'],
        ['decision', 'purchase'],
        ['purchase', 'loyalty'],
        ['loyalty', 'advocacy'],
        ['advocacy', null],
      ])
    })

    it('counts an owner as entering a stage only when they entered it within [from, to)', async () => {
      const { stage } = await funnel([
        visitor('before', T0 - DAY, T0 + DAY), // awareness before the range; consideration in it
        visitor('at-from', T0), // the range's start is in it
        visitor('inside', T0 + 29 * DAY),
        visitor('at-to', T0 + 30 * DAY), // the range's end is not
      ])
      expect(stage('awareness').people.entered).toBe(2) // at-from, inside
      expect(stage('consideration').people.entered).toBe(1) // before
    })

    it('counts as moving on only those who entered the next stage before the range’s end', async () => {
      const { stage } = await funnel([
        visitor('a', T0 + 1 * DAY, T0 + 3 * DAY), // moved on 2 days later
        visitor('b', T0 + 2 * DAY, T0 + 30 * DAY), // moved on, but at `to`: too late for this report
        visitor('c', T0 + 5 * DAY), // did not move on
      ])
      // 1 of 3 moved on: 0.3333, 2 dropped off; the one duration is 2 days.
      expect(stage('awareness').people).toEqual({
        entered: 3, movedOn: 1, conversionRate: 0.3333, dropOff: 2, medianMsToNext: 2 * DAY, p75MsToNext: 2 * DAY,
      })
      // Only a entered consideration in range, and went no further.
      expect(stage('consideration').people).toEqual({
        entered: 1, movedOn: 0, conversionRate: 0, dropOff: 1, medianMsToNext: null, p75MsToNext: null,
      })
    })

    it('counts everything when no range is given', async () => {
      const { stage } = await funnel([visitor('old', 0, 5 * DAY), visitor('new', T0, T0 + 100 * DAY)], { asOf: T0 + 200 * DAY, stalledAfterMs: 14 * DAY })
      // Durations 5 and 100 days: median 52.5 days; p75 at rank 0.75 → 5 + 95 × 0.75 = 76.25 days.
      expect(stage('awareness').people).toEqual({
        entered: 2, movedOn: 2, conversionRate: 1, dropOff: 0, medianMsToNext: 52.5 * DAY, p75MsToNext: 76.25 * DAY,
      })
    })

    it('gives the median and 75th percentile time to the next stage over those who moved on, interpolated', async () => {
      const { stage } = await funnel([
        visitor('1h', T0, T0 + 1 * HOUR),
        visitor('2h', T0, T0 + 2 * HOUR),
        visitor('3h', T0, T0 + 3 * HOUR),
        visitor('10h', T0, T0 + 10 * HOUR),
        visitor('stays', T0), // not among the durations
      ])
      // Durations 1, 2, 3, 10 hours: median 2.5 h (rank 1.5), p75 4.75 h (rank 2.25: 3 + 7 × 0.25).
      expect(stage('awareness').people).toEqual({
        entered: 5, movedOn: 4, conversionRate: 0.8, dropOff: 1, medianMsToNext: 2.5 * HOUR, p75MsToNext: 4.75 * HOUR,
      })
    })

    it('has no conversion rate for a stage nobody entered', async () => {
      const { stage } = await funnel([visitor('v', T0 + DAY)])
      expect(stage('decision').people).toEqual({
        entered: 0, movedOn: 0, conversionRate: null, dropOff: 0, medianMsToNext: null, p75MsToNext: null,
      })
    })

    it('leaves moving on, conversion, drop-off and times empty (null) at the last stage', async () => {
      const all = [1, 2, 3, 4, 5, 6].map((d) => T0 + d * DAY)
      const { stage } = await funnel([person('p', ...all), company('c', ...all)])
      const last = { entered: 1, movedOn: null, conversionRate: null, dropOff: null, medianMsToNext: null, p75MsToNext: null }
      expect(stage('advocacy').people).toEqual(last)
      expect(stage('advocacy').companies).toEqual(last)
      // The stage before still measures the move into advocacy: one day.
      expect(stage('loyalty').people).toEqual({ entered: 1, movedOn: 1, conversionRate: 1, dropOff: 0, medianMsToNext: DAY, p75MsToNext: DAY })
    })

    it('counts known people and anonymous visitors as people, of whom only persons are known', async () => {
      const { stage } = await funnel([
        person('p1', T0 + DAY, T0 + 2 * DAY),
        visitor('v1', T0 + DAY),
        visitor('v2', T0 + DAY, T0 + 3 * DAY),
      ])
      expect(stage('awareness').people.entered).toBe(3)
      expect(stage('awareness').known).toBe(1)
      expect(stage('consideration').people.entered).toBe(2)
      expect(stage('consideration').known).toBe(1)
    })

    it('counts companies separately from people, and never as known', async () => {
      const { stage } = await funnel([
        person('p1', T0 + DAY, T0 + 2 * DAY),
        company('c1', T0 + DAY, T0 + 4 * DAY),
        company('c2', T0 + 2 * DAY),
      ])
      expect(stage('awareness').people).toEqual({ entered: 1, movedOn: 1, conversionRate: 1, dropOff: 0, medianMsToNext: DAY, p75MsToNext: DAY })
      // c1 moved on after 3 days; c2 did not.
      expect(stage('awareness').companies).toEqual({
        entered: 2, movedOn: 1, conversionRate: 0.5, dropOff: 1, medianMsToNext: 3 * DAY, p75MsToNext: 3 * DAY,
      })
      expect(stage('awareness').known).toBe(1)
      expect(stage('consideration').companies.entered).toBe(1)
    })
  })

  describe('Stalled people', async () => {
    // Judged at T0 + 30 days, stalled after more than 14 days in the stage they stand at.
    it('lists people who have been in their stage longer than the limit, longest first, in whole days', async () => {
      const { stalled } = await funnel([
        person('pg', T0 + 5 * DAY), // 25 days in awareness
        person('pa', T0 + DAY, T0 + 2 * DAY), // 28 days in consideration
        person('ph', T0 + 3 * DAY + 12 * HOUR), // 26.5 days in awareness: 26 whole days
        person('fresh', T0 + 20 * DAY), // 10 days: not yet
      ])
      expect(stalled).toEqual([
        { personId: 'pa', stage: 'consideration', enteredAt: T0 + 2 * DAY, days: 28 },
        { personId: 'ph', stage: 'awareness', enteredAt: T0 + 3 * DAY + 12 * HOUR, days: 26 },
        { personId: 'pg', stage: 'awareness', enteredAt: T0 + 5 * DAY, days: 25 },
      ])
    })

    it('needs longer than the limit: exactly the limit is not stalled', async () => {
      // Consideration entered 14 days before asOf exactly.
      const { stalled } = await funnel([person('p', T0, T0 + 16 * DAY)])
      expect(stalled).toEqual([])
    })

    it('judges where a person stood at asOf, ignoring stages entered after it', async () => {
      const { stalled } = await funnel([person('p', T0 + 5 * DAY, T0 + 31 * DAY)])
      // At T0 + 30 days they were still in awareness, for 25 days.
      expect(stalled).toEqual([{ personId: 'p', stage: 'awareness', enteredAt: T0 + 5 * DAY, days: 25 }])
    })

    it('judges at asOf, which need not be the range’s end', async () => {
      const asOf = T0 + 10 * DAY
      const { stalled } = await funnel([person('p', T0 - 10 * DAY)], { asOf, stalledAfterMs: 14 * DAY })
      expect(stalled).toEqual([{ personId: 'p', stage: 'awareness', enteredAt: T0 - 10 * DAY, days: 20 }])
      expect((await funnel([person('p', T0 - 10 * DAY)], { asOf: T0, stalledAfterMs: 14 * DAY })).stalled).toEqual([]) // 10 days then
    })

    it('does not list anyone who has not entered the journey by asOf', async () => {
      expect((await funnel([person('p', T0 + 31 * DAY)])).stalled).toEqual([])
    })

    it('does not list people at the last stage: there is nowhere further to go', async () => {
      const { stalled } = await funnel([person('p', T0, T0, T0, T0, T0, T0)])
      expect(stalled).toEqual([])
    })

    it('lists only known people, not anonymous visitors or companies', async () => {
      const { stalled } = await funnel([visitor('v', T0), company('c', T0), person('p', T0)])
      expect(stalled.map((s) => s.personId)).toEqual(['p'])
    })

    it('counts every stalled person, and lists the longest stalled up to the limit, whatever stage they are in', async () => {
      const { stalled, total } = await funnel(
        [person('a', T0 + 4 * DAY), person('c', T0 + DAY, T0 + 2 * DAY), person('d', T0, T0, T0 + 3 * DAY), person('b', T0 + 5 * DAY)],
        { ...OPTIONS, limit: 2 },
      )
      expect(total).toBe(4)
      expect(stalled.map((s) => [s.personId, s.stage])).toEqual([['c', 'consideration'], ['d', 'decision']])
    })

    it('orders people stalled equally long by id', async () => {
      const { stalled } = await funnel([person('zed', T0), person('amy', T0)])
      expect(stalled.map((s) => s.personId)).toEqual(['amy', 'zed'])
    })
  })
})

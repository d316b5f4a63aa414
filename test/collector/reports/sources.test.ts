import { describe, expect, it } from 'vitest'
import { attributedStages, attributionFrom, flowsFrom, sessionSourcesFold, touchCountsFold, type TouchCounts, type TouchQuery } from '../../../collector/reports/sources'
import { DEFAULT_JOURNEY, type Journey } from '../../../collector/stages/config'
import { nextEntryTimes } from '../../../collector/store/sqlite/journeys'
import type { OwnerType, StageEntryRecord } from '../../../collector/store/types'
import { readStoredRows } from '../../fixtures/store-file'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1)
const RANGE = { from: T0, to: T0 + 30 * DAY }

const journeyOf = (...names: string[]): Journey => ({ name: 'j', stages: names.map((name) => ({ name, when: [{ visit: true }] })) })

describe('Attributed stages', () => {
  it('are decision and after in the B2B journey: the stages a lead reaches by acting', () => {
    expect(attributedStages(DEFAULT_JOURNEY)).toEqual(['decision', 'purchase', 'loyalty', 'advocacy'])
  })

  it('are the third stage on in any journey of three stages or more', () => {
    expect(attributedStages(journeyOf('visitor', 'engaged', 'qualified'))).toEqual(['qualified'])
  })

  it('are the last stage alone in a shorter journey', () => {
    expect(attributedStages(journeyOf('visitor', 'signed-up'))).toEqual(['signed-up'])
    expect(attributedStages(journeyOf('visitor'))).toEqual(['visitor'])
  })
})

type SessionRow = Parameters<ReturnType<typeof sessionSourcesFold>['add']>[0]
const session = (stage: string | null, channel: string, source: string, medium: string, campaign: string | null = null): SessionRow => ({
  stage, channel, source, medium, campaign,
})

describe('Sessions by stage and source', () => {
  it('counts sessions at their stage by channel, source with medium, and campaign, most first', () => {
    const fold = sessionSourcesFold(DEFAULT_JOURNEY)
    for (const s of [
      session('awareness', 'Organic Search', 'google', 'organic'),
      session('awareness', 'Organic Search', 'google', 'organic'),
      session('awareness', 'Email', 'newsletter', 'email', 'spring'),
      session('awareness', 'Paid Search', 'google', 'cpc', 'brand'),
      session('consideration', 'Email', 'newsletter', 'email', 'spring'),
    ])
      fold.add(s)
    const [awareness, consideration, ...rest] = fold.result()
    expect(awareness).toEqual({
      stage: 'awareness',
      sessions: 4,
      // Ties in key order: Email before Paid Search.
      channels: [{ channel: 'Organic Search', count: 2 }, { channel: 'Email', count: 1 }, { channel: 'Paid Search', count: 1 }],
      // The same source with another medium is another row.
      sources: [
        { source: 'google', medium: 'organic', count: 2 },
        { source: 'google', medium: 'cpc', count: 1 },
        { source: 'newsletter', medium: 'email', count: 1 },
      ],
      // Sessions without a campaign are not listed among campaigns.
      campaigns: [{ campaign: 'brand', count: 1 }, { campaign: 'spring', count: 1 }],
    })
    expect(consideration).toEqual({
      stage: 'consideration',
      sessions: 1,
      channels: [{ channel: 'Email', count: 1 }],
      sources: [{ source: 'newsletter', medium: 'email', count: 1 }],
      campaigns: [{ campaign: 'spring', count: 1 }],
    })
    expect(rest).toEqual(
      ['decision', 'purchase', 'loyalty', 'advocacy'].map((stage) => ({ stage, sessions: 0, channels: [], sources: [], campaigns: [] })),
    )
  })

  it('ignores sessions outside the journey (stage null)', () => {
    const fold = sessionSourcesFold(DEFAULT_JOURNEY)
    fold.add(session(null, 'Direct', '(direct)', '(none)'))
    expect(fold.result().every((s) => s.sessions === 0 && s.channels.length === 0)).toBe(true)
  })

  it('keeps the 25 most frequent sources and campaigns', () => {
    const fold = sessionSourcesFold(journeyOf('visitor'))
    // 30 sources s00 … s29, each with its own campaign; s29 twice.
    const names = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`)
    for (const name of [...names, 's29']) fold.add(session('visitor', 'Referral', name, 'referral', name))
    const [visitor] = fold.result()
    expect(visitor.sessions).toBe(31)
    // s29 first, then the 24 tied with one session in key order: s00 … s23.
    const kept = ['s29', ...names.slice(0, 24)]
    expect(visitor.sources.map((s) => s.source)).toEqual(kept)
    expect(visitor.campaigns.map((c) => c.campaign)).toEqual(kept)
    expect(visitor.sources[0]).toEqual({ source: 's29', medium: 'referral', count: 2 })
  })
})

let sessions = 0
/** An owner's entry into a stage, by a session with this channel, source and campaign. */
const entry = (ownerType: OwnerType, ownerId: string, stage: string, at: number, channel: string | null, source: string | null, campaign: string | null = null): StageEntryRecord => ({
  ownerType, ownerId, stage, at, page: '/', sessionId: `s${sessions++}`, channel, source, medium: null, campaign,
})
const owner = (ownerType: OwnerType, ...entries: StageEntryRecord[]) => ({ ownerType, entries })

type Owner = ReturnType<typeof owner>
const STAGES = DEFAULT_JOURNEY.stages.map((s) => s.name)
type Counter = (owners: Owner[], query: TouchQuery) => Promise<TouchCounts>

/** The definition: each owner's entries folded one by one. */
const byFold: Counter = async (owners, query) => {
  const fold = touchCountsFold(STAGES, query)
  for (const o of owners) fold.add(o)
  return fold.result()
}

/** SQLite's own counting, over the owners' entries stored in a real file (each holds its session's source, as the store writes it). */
const bySqlite: Counter = (owners, query) =>
  readStoredRows(
    (db) => {
      const insertEntry = db.prepare(
        `INSERT INTO stage_entries (site_id, owner_type, owner_id, journey, stage, entered_at, session_id, channel, campaign, page, next_at, source) VALUES ('site', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      for (const { entries } of owners) {
        const next = nextEntryTimes(DEFAULT_JOURNEY, entries)
        entries.forEach((e, i) => insertEntry.run(e.ownerType, e.ownerId, DEFAULT_JOURNEY.name, e.stage, e.at, e.sessionId, e.channel, e.campaign, e.page, next[i], e.source))
      }
    },
    (store) => store.touchCounts('site', DEFAULT_JOURNEY.name, STAGES, query),
  )

describe.each([
  ['folded owner by owner', byFold],
  ['counted by SQLite', bySqlite],
] as const)('Attribution and flows %s', (_, count) => {
  async function attribution(owners: Owner[], range: { from?: number; to?: number } = RANGE) {
    const result = attributionFrom(DEFAULT_JOURNEY, await count(owners, { ...range, attributed: attributedStages(DEFAULT_JOURNEY) }))
    return { result, stage: (name: string) => result.find((a) => a.stage === name)! }
  }

  describe('First- and last-touch attribution', () => {
    it('reports the attributed stages only, in journey order', async () => {
      expect((await attribution([])).result).toEqual(
        ['decision', 'purchase', 'loyalty', 'advocacy'].map((stage) => ({ stage, people: 0, firstTouch: [], lastTouch: [] })),
      )
    })

    it('credits the first touch to the session that entered the first stage, the last to the one that entered the stage', async () => {
      const { stage } = await attribution([
        owner('person',
          entry('person', 'p1', 'awareness', T0 + DAY, 'Organic Search', 'google'),
          entry('person', 'p1', 'consideration', T0 + 2 * DAY, 'Email', 'newsletter', 'spring'),
          entry('person', 'p1', 'decision', T0 + 3 * DAY, 'Paid Search', 'google', 'brand')),
      ])
      expect(stage('decision')).toEqual({
        stage: 'decision',
        people: 1,
        firstTouch: [{ channel: 'Organic Search', source: 'google', campaign: null, count: 1 }],
        // The consideration touch in between is neither.
        lastTouch: [{ channel: 'Paid Search', source: 'google', campaign: 'brand', count: 1 }],
      })
      expect(stage('purchase').people).toBe(0)
    })

    it('counts a person at each attributed stage they entered', async () => {
      const { stage } = await attribution([
        owner('person',
          entry('person', 'p1', 'awareness', T0, 'Direct', '(direct)'),
          entry('person', 'p1', 'consideration', T0, 'Direct', '(direct)'),
          entry('person', 'p1', 'decision', T0 + DAY, 'Email', 'newsletter', 'spring'),
          entry('person', 'p1', 'purchase', T0 + 5 * DAY, 'Referral', 'partner.example')),
      ])
      expect(stage('decision').lastTouch).toEqual([{ channel: 'Email', source: 'newsletter', campaign: 'spring', count: 1 }])
      expect(stage('purchase').firstTouch).toEqual([{ channel: 'Direct', source: '(direct)', campaign: null, count: 1 }])
      expect(stage('purchase').lastTouch).toEqual([{ channel: 'Referral', source: 'partner.example', campaign: null, count: 1 }])
    })

    it('applies the range to the entry into the attributed stage, not to the first touch', async () => {
      const { stage } = await attribution([
        // First touch long before the range; decision inside it: counted.
        owner('person',
          entry('person', 'early', 'awareness', T0 - 10 * DAY, 'Organic Social', 'linkedin.com'),
          entry('person', 'early', 'decision', T0 + 5 * DAY, 'Direct', '(direct)')),
        // Decision at the range's end: not counted.
        owner('person',
          entry('person', 'late', 'awareness', T0 + DAY, 'Email', 'newsletter'),
          entry('person', 'late', 'decision', T0 + 30 * DAY, 'Email', 'newsletter')),
        // Decision before the range (not counted), purchase in it (counted).
        owner('person',
          entry('person', 'buyer', 'awareness', T0 - 3 * DAY, 'Paid Search', 'google', 'brand'),
          entry('person', 'buyer', 'decision', T0 - DAY, 'Paid Search', 'google', 'brand'),
          entry('person', 'buyer', 'purchase', T0 + 2 * DAY, 'Direct', '(direct)')),
      ])
      expect(stage('decision')).toEqual({
        stage: 'decision',
        people: 1,
        firstTouch: [{ channel: 'Organic Social', source: 'linkedin.com', campaign: null, count: 1 }],
        lastTouch: [{ channel: 'Direct', source: '(direct)', campaign: null, count: 1 }],
      })
      expect(stage('purchase')).toEqual({
        stage: 'purchase',
        people: 1,
        firstTouch: [{ channel: 'Paid Search', source: 'google', campaign: 'brand', count: 1 }],
        lastTouch: [{ channel: 'Direct', source: '(direct)', campaign: null, count: 1 }],
      })
    })

    it('counts anonymous visitors as people, and ignores companies', async () => {
      const { stage } = await attribution([
        owner('visitor', entry('visitor', 'v1', 'awareness', T0, 'Direct', '(direct)'), entry('visitor', 'v1', 'decision', T0 + DAY, 'Direct', '(direct)')),
        owner('company', entry('company', 'c1', 'awareness', T0, 'Email', 'newsletter'), entry('company', 'c1', 'decision', T0 + DAY, 'Email', 'newsletter')),
      ])
      expect(stage('decision')).toEqual({
        stage: 'decision',
        people: 1,
        firstTouch: [{ channel: 'Direct', source: '(direct)', campaign: null, count: 1 }],
        lastTouch: [{ channel: 'Direct', source: '(direct)', campaign: null, count: 1 }],
      })
    })

    it('adds up touches over people, most first', async () => {
      const person = (id: string, first: [string, string, string | null], last: [string, string, string | null]) =>
        owner('person', entry('person', id, 'awareness', T0, ...first), entry('person', id, 'decision', T0 + DAY, ...last))
      const { stage } = await attribution([
        person('a', ['Organic Search', 'google', null], ['Email', 'newsletter', 'spring']),
        person('b', ['Email', 'newsletter', 'spring'], ['Email', 'newsletter', 'spring']),
        person('c', ['Organic Search', 'google', null], ['Direct', '(direct)', null]),
      ])
      expect(stage('decision')).toEqual({
        stage: 'decision',
        people: 3,
        firstTouch: [
          { channel: 'Organic Search', source: 'google', campaign: null, count: 2 },
          { channel: 'Email', source: 'newsletter', campaign: 'spring', count: 1 },
        ],
        lastTouch: [
          { channel: 'Email', source: 'newsletter', campaign: 'spring', count: 2 },
          { channel: 'Direct', source: '(direct)', campaign: null, count: 1 },
        ],
      })
    })

    it('names a touch without a channel or source "unknown"', async () => {
      const { stage } = await attribution([
        owner('person', entry('person', 'p', 'awareness', T0, null, null), entry('person', 'p', 'decision', T0, null, null)),
      ])
      expect(stage('decision').firstTouch).toEqual([{ channel: 'unknown', source: 'unknown', campaign: null, count: 1 }])
      expect(stage('decision').lastTouch).toEqual([{ channel: 'unknown', source: 'unknown', campaign: null, count: 1 }])
    })
  })

  describe('Flows: where people come from and where they stop', () => {
    const entry = (ownerId: string, stage: string, at: number, channel: string, ownerType: OwnerType = 'visitor'): StageEntryRecord => ({
      ownerType, ownerId, stage, at, sessionId: `${ownerId}-${at}`, channel, source: null, medium: null, campaign: null, page: '/',
    })
    const flows = async (...owners: Owner[]) => flowsFrom(await count(owners, { ...RANGE, attributed: [] }))

    it('counts each person once, by the channel of their first touch and the furthest stage they reached by the end of the range', async () => {
      const counted = await flows(
        // Ann came from search, later (through email) reached decision: search → decision.
        { ownerType: 'visitor', entries: [entry('ann', 'awareness', T0 + DAY, 'Organic Search'), entry('ann', 'consideration', T0 + 2 * DAY, 'Email'), entry('ann', 'decision', T0 + 3 * DAY, 'Email')] },
        // Bob came from search and stopped at awareness.
        { ownerType: 'visitor', entries: [entry('bob', 'awareness', T0 + DAY, 'Organic Search')] },
        // Cy reached purchase only after the range: counted where he stood at its end, consideration.
        { ownerType: 'person', entries: [entry('cy', 'awareness', T0 + DAY, 'Email', 'person'), entry('cy', 'consideration', T0 + DAY, 'Email', 'person'), entry('cy', 'purchase', T0 + 40 * DAY, 'Offline', 'person')] },
      )
      expect(counted).toEqual([
        { channel: 'Email', stage: 'consideration', people: 1 },
        { channel: 'Organic Search', stage: 'awareness', people: 1 },
        { channel: 'Organic Search', stage: 'decision', people: 1 },
      ])
    })

    it('leaves out those who first came outside the range, and companies', async () => {
      expect(
        await flows(
          { ownerType: 'visitor', entries: [entry('old', 'awareness', T0 - DAY, 'Direct'), entry('old', 'decision', T0 + DAY, 'Direct')] },
          { ownerType: 'company', entries: [entry('acme', 'awareness', T0 + DAY, 'Direct', 'company')] },
        ),
      ).toEqual([])
    })
  })
})

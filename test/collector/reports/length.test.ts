import { describe, expect, it } from 'vitest'
import { B2B_REFERENCE, lengthFold, type LengthOwner, type Touch } from '../../../collector/reports/length'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'

const HOUR = 3_600_000
const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1)
/** The report's range: 30 days from T0. */
const RANGE = { from: T0, to: T0 + 30 * DAY }

const touch = (at: number, channel: string): Touch => ({ at, channel })
/** An owner who entered the journey's stages in order, at the times given (one per stage, from awareness). */
const STAGES = DEFAULT_JOURNEY.stages.map((s) => s.name)
const walked = (...ats: number[]) => ats.map((at, i) => ({ stage: STAGES[i], at }))
const person = (touches: Touch[], ...ats: number[]): LengthOwner => ({ ownerType: 'person', touches, entries: walked(...ats) })

function lengths(owners: [string, LengthOwner][], range: { from?: number; to?: number } = RANGE) {
  const fold = lengthFold(DEFAULT_JOURNEY, range)
  const added = owners.map(([id, owner]) => fold.add(id, owner))
  const result = fold.result()
  return { added, ...result, person: (stage: string) => result.people.find((s) => s.stage === stage)!, company: (stage: string) => result.companies.find((s) => s.stage === stage)! }
}

describe('Journey length', () => {
  it('counts touches, days and distinct channels from the first touch to each stage entered', () => {
    const touches = [
      touch(T0, 'Organic Search'),
      touch(T0 + 2 * DAY, 'Email'),
      touch(T0 + 5 * DAY, 'Email'),
      touch(T0 + 9 * DAY, 'Direct'),
    ]
    // Awareness at the first touch; consideration at the moment of the second touch (it counts);
    // decision an hour into the third: 5 days 1 hour = 5.0417 days, kept to 2 places.
    const { added } = lengths([['p1', person(touches, T0, T0 + 2 * DAY, T0 + 5 * DAY + HOUR)]])
    expect(added[0]).toEqual([
      { ownerType: 'person', ownerId: 'p1', stage: 'awareness', firstTouchAt: T0, enteredAt: T0, touches: 1, days: 0, channels: 1 },
      { ownerType: 'person', ownerId: 'p1', stage: 'consideration', firstTouchAt: T0, enteredAt: T0 + 2 * DAY, touches: 2, days: 2, channels: 2 },
      // The touch on day 9 comes after decision: 3 touches, on Organic Search and Email.
      { ownerType: 'person', ownerId: 'p1', stage: 'decision', firstTouchAt: T0, enteredAt: T0 + 5 * DAY + HOUR, touches: 3, days: 5.04, channels: 2 },
    ])
  })

  it('takes the touches in time order whatever order they come in', () => {
    const touches = [touch(T0 + 4 * DAY, 'Direct'), touch(T0 + DAY, 'Referral'), touch(T0 + 3 * DAY, 'Direct'), touch(T0 + 8 * DAY, 'Email')]
    const { added } = lengths([['p', { ownerType: 'person', touches, entries: [{ stage: 'decision', at: T0 + 4 * DAY }] }]])
    // First touch on day 1; touches on days 1, 3, 4 (the one at the entry moment counts): 3 days, 2 channels.
    expect(added[0]).toEqual([
      { ownerType: 'person', ownerId: 'p', stage: 'decision', firstTouchAt: T0 + DAY, enteredAt: T0 + 4 * DAY, touches: 3, days: 3, channels: 2 },
    ])
  })

  it('counts a stage only when it was entered within [from, to), measuring from a first touch before the range', () => {
    const touches = [touch(T0 - 10 * DAY, 'Direct'), touch(T0, 'Email'), touch(T0 + 30 * DAY, 'Email')]
    const { added, person: stage } = lengths([
      // awareness before the range: out; consideration at `from`: in; decision at `to`: out.
      ['p', person(touches, T0 - 10 * DAY, T0, T0 + 30 * DAY)],
    ])
    expect(added[0]).toEqual([
      { ownerType: 'person', ownerId: 'p', stage: 'consideration', firstTouchAt: T0 - 10 * DAY, enteredAt: T0, touches: 2, days: 10, channels: 2 },
    ])
    expect([stage('awareness').reached, stage('consideration').reached, stage('decision').reached]).toEqual([0, 1, 0])
  })

  it('counts every entry when no range is given', () => {
    const touches = [touch(T0 - 400 * DAY, 'Direct'), touch(T0 + 400 * DAY, 'Email')]
    const { person: stage } = lengths([['p', person(touches, T0 - 400 * DAY, T0 + 400 * DAY)]], {})
    expect(stage('awareness')).toMatchObject({ reached: 1, touches: { median: 1, p75: 1 } })
    // 800 days, 2 touches, 2 channels.
    expect(stage('consideration')).toMatchObject({ reached: 1, touches: { median: 2, p75: 2 }, days: { median: 800, p75: 800 }, channels: { median: 2, p75: 2 } })
  })

  it('gives the median and 75th percentile (PERCENTILE.INC) over the owners who entered the stage', () => {
    const at = (day: number) => T0 + day * DAY
    const { person: stage } = lengths([
      // Decision on day 2 after 1 touch; one channel.
      ['a', { ownerType: 'person', touches: [touch(at(0), 'Direct')], entries: [{ stage: 'decision', at: at(2) }] }],
      // Day 4, 2 touches, one channel.
      ['b', { ownerType: 'person', touches: [touch(at(0), 'Direct'), touch(at(3), 'Direct')], entries: [{ stage: 'decision', at: at(4) }] }],
      // Day 7, 3 touches, 2 channels.
      ['c', { ownerType: 'person', touches: [touch(at(0), 'Direct'), touch(at(1), 'Email'), touch(at(6), 'Email')], entries: [{ stage: 'decision', at: at(7) }] }],
      // Day 29 (first touch on day -1: 30 days), 10 touches, 3 channels.
      [
        'd',
        {
          ownerType: 'person',
          touches: [touch(at(-1), 'Direct'), touch(at(1), 'Email'), ...Array.from({ length: 8 }, (_, i) => touch(at(2 + i), 'Organic Search'))],
          entries: [{ stage: 'decision', at: at(29) }],
        },
      ],
    ])
    // Touches 1, 2, 3, 10: median (2 + 3) / 2 = 2.5; p75 at rank 0.75 × 3 = 2.25: 3 + 7 × 0.25 = 4.75, shown to 1 place: 4.8.
    // Days 2, 4, 7, 30: median 5.5; p75 7 + 23 × 0.25 = 12.75 → 12.8.
    // Channels 1, 1, 2, 3: median 1.5; p75 2 + 1 × 0.25 = 2.25 → 2.3.
    expect(stage('decision')).toEqual({
      stage: 'decision',
      reached: 4,
      touches: { median: 2.5, p75: 4.8 },
      days: { median: 5.5, p75: 12.8 },
      channels: { median: 1.5, p75: 2.3 },
    })
  })

  it('keeps people and companies apart, lists every stage, and shows the B2B benchmark beside them', () => {
    const touches = [touch(T0, 'Direct'), touch(T0 + 6 * DAY, 'Email')]
    const result = lengths([
      ['p', person(touches, T0)],
      ['c', { ownerType: 'company', touches, entries: walked(T0, T0 + 6 * DAY) }],
    ])
    expect(result.reference).toEqual(B2B_REFERENCE)
    expect(B2B_REFERENCE).toEqual({ touches: 31, days: 192, channels: 3.1 })
    expect(result.people.map((s) => s.stage)).toEqual(STAGES)
    expect(result.companies.map((s) => s.stage)).toEqual(STAGES)
    expect(result.people.map((s) => s.reached)).toEqual([1, 0, 0, 0, 0, 0])
    expect(result.companies.map((s) => s.reached)).toEqual([1, 1, 0, 0, 0, 0])
    expect(result.company('consideration')).toEqual({
      stage: 'consideration', reached: 1, touches: { median: 2, p75: 2 }, days: { median: 6, p75: 6 }, channels: { median: 2, p75: 2 },
    })
    // A stage no one reached: nothing to take a median of.
    expect(result.person('purchase')).toEqual({
      stage: 'purchase', reached: 0, touches: { median: null, p75: null }, days: { median: null, p75: null }, channels: { median: null, p75: null },
    })
  })

  it('leaves out an owner with no touches, an entry no touch came before, and stages the journey does not have', () => {
    const { added, person: stage } = lengths([
      ['untouched', { ownerType: 'person', touches: [], entries: [{ stage: 'awareness', at: T0 }] }],
      // Entered awareness a minute before the first touch recorded for them.
      ['early', { ownerType: 'person', touches: [touch(T0 + 60_000, 'Direct')], entries: [{ stage: 'awareness', at: T0 }, { stage: 'consideration', at: T0 + 60_000 }] }],
      ['elsewhere', { ownerType: 'person', touches: [touch(T0, 'Direct')], entries: [{ stage: 'onboarding', at: T0 + DAY }] }],
    ])
    expect(added[0]).toEqual([])
    expect(added[1].map((l) => l.stage)).toEqual(['consideration'])
    expect(added[2]).toEqual([])
    expect(stage('awareness').reached).toBe(0)
    expect(stage('consideration').reached).toBe(1)
  })

  it('gives days to 2 places per owner and the spread to 1 place', () => {
    // 1 day 6 hours = 1.25 days; 2 days 20 hours = 2.8333 → 2.83. Median (1.25 + 2.83) / 2 = 2.04 → 2.0;
    // p75: 1.25 + 1.58 × 0.75 = 2.435 → 2.4.
    const { added, person: stage } = lengths([
      ['a', { ownerType: 'person', touches: [touch(T0, 'Direct')], entries: [{ stage: 'decision', at: T0 + 30 * HOUR }] }],
      ['b', { ownerType: 'person', touches: [touch(T0, 'Direct')], entries: [{ stage: 'decision', at: T0 + 68 * HOUR }] }],
    ])
    expect(added.map((a) => a[0].days)).toEqual([1.25, 2.83])
    expect(stage('decision').days).toEqual({ median: 2, p75: 2.4 })
  })
})

import { describe, expect, it } from 'vitest'
import { COHORT_WINDOWS, cohortsFold, type CohortOwner } from '../../../collector/reports/cohorts'
import type { Journey } from '../../../collector/stages/config'

const HOUR = 3_600_000
const DAY = 86_400_000
/** A journey of two stages, so each cohort's table stays small. */
const JOURNEY: Journey = { name: 'short', stages: [{ name: 'visit', when: [{ visit: true }] }, { name: 'demo', when: [{ formSubmit: '*demo*' }] }] }
const SEP_1 = Date.UTC(2026, 8, 1)
const OCT_1 = Date.UTC(2026, 9, 1)

const owner = (firstTouch: number, demoAfterDays?: number, ownerType: CohortOwner['ownerType'] = 'person'): CohortOwner => ({
  ownerType,
  firstTouch,
  entries: [{ stage: 'visit', at: firstTouch }, ...(demoAfterDays === undefined ? [] : [{ stage: 'demo', at: firstTouch + demoAfterDays * DAY }])],
})

function cohorts(owners: CohortOwner[], options: { from?: number; to?: number; asOf: number }) {
  const fold = cohortsFold(JOURNEY, options)
  for (const o of owners) fold.add(o)
  return fold.result()
}
type Within = { days: number; eligible: number; reached: number; share: number | null }
const windows = (...rows: [eligible: number, reached: number][]): Within[] =>
  rows.map(([eligible, reached], i) => ({ days: COHORT_WINDOWS[i], eligible, reached, share: eligible ? Math.round((reached / eligible) * 10_000) / 10_000 : null }))

describe('Cohorts', () => {
  it('groups owners by the UTC month of their first touch', () => {
    const result = cohorts([owner(OCT_1 - 1), owner(OCT_1), owner(SEP_1), owner(OCT_1 + 5 * DAY)], { asOf: OCT_1 + 400 * DAY })
    expect(result.windows).toEqual([30, 60, 90, 180])
    expect(result.people.map((c) => [c.month, c.size])).toEqual([['2026-09', 2], ['2026-10', 2]])
    expect(result.companies).toEqual([])
  })

  it('counts toward a window only owners whose window has passed by asOf, the exact moment included', () => {
    const asOf = SEP_1 + 90 * DAY
    const result = cohorts(
      [
        owner(SEP_1, 10), // 90 days passed exactly: eligible for 30, 60 and 90
        owner(SEP_1 + HOUR, 10), // 90 days less an hour: eligible for 30 and 60
        owner(SEP_1 + 30 * DAY), // 60 days: eligible for 30 and 60 (October's cohort)
        owner(SEP_1 + 60 * DAY + 1), // a moment short of 30 days: eligible for none
      ],
      { asOf },
    )
    const [september, october] = result.people
    expect(september.month).toBe('2026-09')
    // Demo within 10 days for both: reached in every window they are eligible for.
    expect(september.stages).toEqual([
      { stage: 'visit', within: windows([2, 2], [2, 2], [1, 1], [0, 0]) },
      { stage: 'demo', within: windows([2, 2], [2, 2], [1, 1], [0, 0]) },
    ])
    expect(october.month).toBe('2026-10')
    expect(october.size).toBe(2)
    // Of October's two, one is eligible for 30 and 60 days and never asked for a demo; the other for nothing yet.
    expect(october.stages[1].within).toEqual(windows([1, 0], [1, 0], [0, 0], [0, 0]))
    // No one eligible: no share, rather than 0.
    expect(october.stages[1].within[2].share).toBeNull()
  })

  it('counts a stage reached within a window when it was entered at most that many days after the first touch', () => {
    const result = cohorts(
      [
        owner(SEP_1, 30), // exactly 30 days: within 30
        owner(SEP_1, 30.5), // within 60, not 30
        owner(SEP_1, 90), // exactly 90
        owner(SEP_1, 179), // within 180
        owner(SEP_1, 181), // not even within 180
        owner(SEP_1), // never
      ],
      { asOf: SEP_1 + 365 * DAY },
    )
    // 6 eligible for every window. 30: 1 (0.1667); 60: 2 (0.3333); 90: 3 (0.5); 180: 4 (0.6667).
    expect(result.people[0].stages[1].within).toEqual([
      { days: 30, eligible: 6, reached: 1, share: 0.1667 },
      { days: 60, eligible: 6, reached: 2, share: 0.3333 },
      { days: 90, eligible: 6, reached: 3, share: 0.5 },
      { days: 180, eligible: 6, reached: 4, share: 0.6667 },
    ])
  })

  it('takes only owners whose first touch is within [from, to)', () => {
    const result = cohorts([owner(SEP_1 - 1), owner(SEP_1), owner(OCT_1 - 1), owner(OCT_1)], { from: SEP_1, to: OCT_1, asOf: OCT_1 + 365 * DAY })
    expect(result.people.map((c) => [c.month, c.size])).toEqual([['2026-09', 2]])
  })

  it('keeps people and companies in tables of their own, months in order', () => {
    const result = cohorts(
      [owner(OCT_1, 1, 'company'), owner(SEP_1, 100, 'company'), owner(SEP_1, 2), owner(SEP_1 + DAY, undefined, 'company')],
      { asOf: OCT_1 + 365 * DAY },
    )
    expect(result.people.map((c) => [c.month, c.size])).toEqual([['2026-09', 1]])
    expect(result.companies.map((c) => [c.month, c.size])).toEqual([['2026-09', 2], ['2026-10', 1]])
    // September's companies: one demo after 100 days (within 180 only), one never: 0, 0, 0, 0.5.
    expect(result.companies[0].stages[1].within).toEqual(windows([2, 0], [2, 0], [2, 0], [2, 1]))
    expect(result.people[0].stages[1].within).toEqual(windows([1, 1], [1, 1], [1, 1], [1, 1]))
  })
})

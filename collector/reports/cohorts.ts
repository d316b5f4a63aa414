import type { Journey } from '../stages/config'
import { DAY_MS } from './stats'

/** The windows after a first touch in which reaching a stage is counted. */
export const COHORT_WINDOWS = [30, 60, 90, 180] as const

export interface CohortOwner {
  ownerType: 'person' | 'company'
  firstTouch: number
  entries: { stage: string; at: number }[]
}

export interface CohortStage {
  stage: string
  /**
   * For each window (days): of the cohort's owners whose window has fully passed by `asOf`
   * (`eligible`), how many reached the stage within it, and the share; null while none is eligible.
   */
  within: { days: number; eligible: number; reached: number; share: number | null }[]
}

export interface Cohort {
  /** The month of the first touch, UTC: 2026-09. */
  month: string
  size: number
  stages: CohortStage[]
}

const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7)

/**
 * Cohorts: people and companies grouped by the month of their first touch, with the share that
 * reached each stage within 30, 60, 90 and 180 days of it. Only owners whose window has passed
 * count toward that window, so a young cohort is never shown as converting worse than it will.
 */
export function cohortsFold(journey: Journey, options: { from?: number; to?: number; asOf: number }) {
  const cohorts = { person: new Map<string, CohortOwner[]>(), company: new Map<string, CohortOwner[]>() }
  return {
    add(owner: CohortOwner) {
      if ((options.from !== undefined && owner.firstTouch < options.from) || (options.to !== undefined && owner.firstTouch >= options.to)) return
      const byMonth = cohorts[owner.ownerType]
      const month = monthOf(owner.firstTouch)
      let list = byMonth.get(month)
      if (!list) byMonth.set(month, (list = []))
      list.push(owner)
    },
    result() {
      const table = (byMonth: Map<string, CohortOwner[]>): Cohort[] =>
        [...byMonth.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([month, owners]) => ({
            month,
            size: owners.length,
            stages: journey.stages.map(({ name }) => ({
              stage: name,
              within: COHORT_WINDOWS.map((days) => {
                const eligible = owners.filter((o) => o.firstTouch + days * DAY_MS <= options.asOf)
                const reached = eligible.filter((o) => o.entries.some((e) => e.stage === name && e.at - o.firstTouch <= days * DAY_MS)).length
                return { days, eligible: eligible.length, reached, share: eligible.length ? Math.round((reached / eligible.length) * 10_000) / 10_000 : null }
              }),
            })),
          }))
      return { windows: [...COHORT_WINDOWS], people: table(cohorts.person), companies: table(cohorts.company) }
    },
  }
}

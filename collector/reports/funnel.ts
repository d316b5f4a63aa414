import type { Journey } from '../stages/config'
import type { OwnerStageTimes, OwnerType } from '../store/types'
import { compareText, DAY_MS, percentile, rate, withinRange } from './stats'

/** How owners who entered a stage in the range went on to the next. */
export interface StageFlow {
  /** Entered this stage in the range. */
  entered: number
  /** Of those, how many entered the next stage before the range's end. */
  movedOn: number | null
  /** movedOn ÷ entered. */
  conversionRate: number | null
  /** entered − movedOn. */
  dropOff: number | null
  /** Time from entering this stage to entering the next, over those who moved on. */
  medianMsToNext: number | null
  p75MsToNext: number | null
}

export interface FunnelStage {
  stage: string
  next: string | null
  /** People: known people and visitors not (yet) known, each one owner. */
  people: StageFlow
  /** Of the people who entered, how many are known (identified). */
  known: number
  companies: StageFlow
}

export interface StalledOwner {
  personId: string
  stage: string
  enteredAt: number
  /** How long they have been in the stage at the report's end, in whole days. */
  days: number
}

/** What the funnel counts, asked of a store. */
export interface FunnelQuery {
  from?: number
  to?: number
  /** The moment "stalled" is judged at: the range's end, or now. */
  asOf: number
  /** Stalled: in their furthest stage since before this moment (asOf less the days that count as stalled). */
  stalledBefore: number
  /** How many of the stalled to list, the longest stalled first. */
  limit: number
}

/** Who a funnel counts apart: people (known people and anonymous visitors, each one owner) and companies. */
export type FunnelOwners = 'people' | 'companies'
export const funnelOwnersOf = (ownerType: OwnerType): FunnelOwners => (ownerType === 'company' ? 'companies' : 'people')

/** Owners who entered a stage in the range, and how those who entered the next stage before the range's end went on. */
export interface StageFlowCount {
  stage: string
  owners: FunnelOwners
  entered: number
  /** Of those entered, the known people (none for companies). */
  known: number
  /** Of those entered, how many entered the next stage before the range's end. */
  movedOn: number
  /** Over those who moved on, the median and 75th percentile of the time from entering this stage to the next. */
  medianMsToNext: number | null
  p75MsToNext: number | null
}

/** A known person whose furthest stage at asOf is not the journey's last, entered before stalledBefore. */
export interface StalledPerson {
  personId: string
  stage: string
  enteredAt: number
}

/** The counts a funnel is made of: what a store counts where the stage entries are (see funnelCountsFold for their definition). */
export interface FunnelCounts {
  /** Each stage that anyone entered in the range, for people and for companies, in no set order. */
  flows: StageFlowCount[]
  /** Every stalled person counted; the first `limit` listed, by time entered and then id. */
  stalled: { total: number; first: StalledPerson[] }
}

/** The order stalled people are listed in: the longest stalled first, ties by id (as a database orders text). */
export const longestStalledFirst = (a: StalledPerson, b: StalledPerson) => a.enteredAt - b.enteredAt || compareText(a.personId, b.personId)

/**
 * The funnel's counts folded from each owner's stage entry times, one owner at a time: the
 * definition every store's own counting must match, and what a store narrowed to a segment counts
 * with. Pure.
 */
export function funnelCountsFold(stages: string[], query: FunnelQuery) {
  const last = stages.length - 1
  const inRange = withinRange(query)
  const before = (at: number) => query.to === undefined || at < query.to
  const flows = new Map<string, { stage: string; owners: FunnelOwners; entered: number; known: number; msToNext: number[] }>()
  const stalled: StalledPerson[] = []

  return {
    add({ ownerType, ownerId, at }: OwnerStageTimes) {
      const owners = funnelOwnersOf(ownerType)
      at.forEach((entered, i) => {
        if (entered === null || !inRange(entered)) return
        const key = `${owners} ${i}`
        const flow = flows.get(key) ?? flows.set(key, { stage: stages[i], owners, entered: 0, known: 0, msToNext: [] }).get(key)!
        flow.entered++
        if (ownerType === 'person') flow.known++
        const next = at[i + 1]
        if (i < last && next !== null && before(next)) flow.msToNext.push(next - entered)
      })
      if (ownerType !== 'person') return
      // Where they stood at asOf: the furthest stage entered by then.
      let furthest = -1
      at.forEach((entered, i) => {
        if (entered !== null && entered < query.asOf) furthest = i
      })
      if (furthest >= 0 && furthest < last && at[furthest]! < query.stalledBefore) stalled.push({ personId: ownerId, stage: stages[furthest], enteredAt: at[furthest]! })
    },

    result(): FunnelCounts {
      return {
        flows: [...flows.values()].map(({ msToNext, ...flow }) => ({ ...flow, ...moversOf(msToNext) })),
        stalled: { total: stalled.length, first: stalled.sort(longestStalledFirst).slice(0, query.limit) },
      }
    },
  }
}

/** How many moved on, and the median and 75th percentile of their times to the next stage. */
export const moversOf = (msToNext: ArrayLike<number>) => ({
  movedOn: msToNext.length,
  medianMsToNext: percentile(msToNext, 0.5),
  p75MsToNext: percentile(msToNext, 0.75),
})

/** The funnel of a journey from its counts: each stage's flow for people and for companies, and the stalled people with their days. Pure. */
export function funnelFrom(journey: Journey, counts: FunnelCounts, asOf: number): { stages: FunnelStage[]; stalled: { total: number; people: StalledOwner[] } } {
  const names = journey.stages.map((s) => s.name)
  const last = names.length - 1
  const flow = (i: number, owners: FunnelOwners): StageFlow => {
    const counted = counts.flows.find((f) => f.stage === names[i] && f.owners === owners)
    const entered = counted?.entered ?? 0
    if (i === last) return { entered, movedOn: null, conversionRate: null, dropOff: null, medianMsToNext: null, p75MsToNext: null }
    const movedOn = counted?.movedOn ?? 0
    return {
      entered,
      movedOn,
      conversionRate: rate(movedOn, entered),
      dropOff: entered - movedOn,
      medianMsToNext: counted?.medianMsToNext ?? null,
      p75MsToNext: counted?.p75MsToNext ?? null,
    }
  }
  return {
    stages: names.map((stage, i) => ({
      stage,
      next: names[i + 1] ?? null,
      people: flow(i, 'people'),
      known: counts.flows.find((f) => f.stage === stage && f.owners === 'people')?.known ?? 0,
      companies: flow(i, 'companies'),
    })),
    stalled: {
      total: counts.stalled.total,
      people: counts.stalled.first.map((p) => ({ ...p, days: Math.floor((asOf - p.enteredAt) / DAY_MS) })),
    },
  }
}

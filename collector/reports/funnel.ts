import type { Journey } from '../stages/config'
import type { OwnerStageTimes } from '../store/types'
import { percentile, rate } from './stats'

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

export interface FunnelOptions {
  from?: number
  to?: number
  /** The moment "stalled" is judged at: the range's end, or now. */
  asOf: number
  stalledAfterMs: number
}

/**
 * The funnel of a journey, folded one owner at a time (owners stream in, nothing is kept but the
 * counts and the durations). Pure: the caller reads each owner's entry times into the journey's
 * stages, in the journey's order, and looks up the stalled people.
 */
export function funnelFold(journey: Journey, options: FunnelOptions) {
  const names = journey.stages.map((s) => s.name)
  const last = names.length - 1
  const inRange = (at: number) => (options.from === undefined || at >= options.from) && (options.to === undefined || at < options.to)
  const before = (at: number) => options.to === undefined || at < options.to
  const blank = () => names.map(() => ({ entered: 0, movedOn: 0, durations: [] as number[] }))
  const people = blank()
  const companies = blank()
  const known = names.map(() => 0)
  const stalled: StalledOwner[] = []

  return {
    add({ ownerType, ownerId, at }: OwnerStageTimes) {
      const flows = ownerType === 'company' ? companies : people
      at.forEach((entered, i) => {
        if (entered === null || !inRange(entered)) return
        flows[i].entered++
        if (ownerType === 'person') known[i]++
        const next = at[i + 1]
        if (i < last && next !== null && before(next)) {
          flows[i].movedOn++
          flows[i].durations.push(next - entered)
        }
      })
      if (ownerType !== 'person') return
      // Where they stood at the report's end: the furthest stage entered by then.
      let furthest = -1
      at.forEach((entered, i) => {
        if (entered !== null && entered < options.asOf) furthest = i
      })
      if (furthest < 0 || furthest === last) return
      const since = options.asOf - at[furthest]!
      if (since > options.stalledAfterMs)
        stalled.push({ personId: ownerId, stage: names[furthest], enteredAt: at[furthest]!, days: Math.floor(since / 86_400_000) })
    },

    result(): { stages: FunnelStage[]; stalled: StalledOwner[] } {
      const flow = (f: (typeof people)[number], i: number): StageFlow =>
        i === last
          ? { entered: f.entered, movedOn: null, conversionRate: null, dropOff: null, medianMsToNext: null, p75MsToNext: null }
          : {
              entered: f.entered,
              movedOn: f.movedOn,
              conversionRate: rate(f.movedOn, f.entered),
              dropOff: f.entered - f.movedOn,
              medianMsToNext: percentile(f.durations, 0.5),
              p75MsToNext: percentile(f.durations, 0.75),
            }
      return {
        stages: names.map((stage, i) => ({
          stage,
          next: names[i + 1] ?? null,
          people: flow(people[i], i),
          known: known[i],
          companies: flow(companies[i], i),
        })),
        // Longest stalled first.
        stalled: stalled.sort((a, b) => a.enteredAt - b.enteredAt || a.personId.localeCompare(b.personId)),
      }
    },
  }
}

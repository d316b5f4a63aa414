import type { Journey } from '../stages/config'
import { DAY_MS, percentile, withinRange } from './stats'

/**
 * The published benchmark of a B2B purchase, from first touch to a signed deal: about 31
 * touches over 192 days on 3.1 channels. Shown beside a site's own figures, so a marketer can see
 * whether their journey is long or short.
 */
export const B2B_REFERENCE = { touches: 31, days: 192, channels: 3.1 } as const

/** One touch: a session (a visit, or a back end's events with no page, which count as Offline). */
export interface Touch {
  at: number
  channel: string
}

export interface LengthOwner {
  ownerType: 'person' | 'company'
  /** Every touch of the owner (a company's: all its people's), in any order. */
  touches: Touch[]
  /** When the owner entered each stage. */
  entries: { stage: string; at: number }[]
}

export interface Spread {
  median: number | null
  p75: number | null
}

/** How long it took to reach one stage, over the owners who reached it in the range. */
export interface StageLength {
  stage: string
  /** Owners who entered the stage in the range (and had a touch by then). */
  reached: number
  /** Touches from the first to the one in which the stage was entered, both counted. */
  touches: Spread
  /** Days from the first touch to entering the stage. */
  days: Spread
  /** Distinct channels among those touches. */
  channels: Spread
}

/** One owner's way to one stage, for the export. */
export interface OwnerLength {
  ownerType: 'person' | 'company'
  ownerId: string
  stage: string
  firstTouchAt: number
  enteredAt: number
  touches: number
  days: number
  channels: number
}

const round = (value: number | null, places: number) => (value === null ? null : Math.round(value * 10 ** places) / 10 ** places)
const spread = (values: number[], places = 1): Spread => ({ median: round(percentile(values, 0.5), places), p75: round(percentile(values, 0.75), places) })

/** The way to a moment: the touches up to it (both ends counted), the days since the first, the channels among them. */
export function lengthTo(touches: Touch[], at: number): { touches: number; days: number; channels: number; firstTouchAt: number } | null {
  const before = touches.filter((t) => t.at <= at)
  if (!before.length) return null
  const firstTouchAt = before.reduce((first, t) => Math.min(first, t.at), Infinity)
  return { touches: before.length, days: round((at - firstTouchAt) / DAY_MS, 2)!, channels: new Set(before.map((t) => t.channel)).size, firstTouchAt }
}

/**
 * Journey length: for every person and company, the touches, days and distinct channels from
 * their first touch to entering each stage of the journey; per stage, the median and 75th
 * percentile over those who entered it in the range.
 */
export function lengthFold(journey: Journey, range: { from?: number; to?: number }) {
  const inRange = withinRange(range)
  const samples = { person: new Map<string, OwnerLength[]>(), company: new Map<string, OwnerLength[]>() }
  for (const type of ['person', 'company'] as const) for (const stage of journey.stages) samples[type].set(stage.name, [])

  return {
    /** Adds one owner; returns their way to each stage entered in the range. */
    add(ownerId: string, owner: LengthOwner): OwnerLength[] {
      const found: OwnerLength[] = []
      for (const entry of owner.entries) {
        if (!inRange(entry.at)) continue
        const way = lengthTo(owner.touches, entry.at)
        const list = samples[owner.ownerType].get(entry.stage)
        if (!way || !list) continue
        const length: OwnerLength = { ownerType: owner.ownerType, ownerId, stage: entry.stage, enteredAt: entry.at, ...way }
        list.push(length)
        found.push(length)
      }
      return found
    },
    result() {
      const stages = (type: 'person' | 'company'): StageLength[] =>
        journey.stages.map(({ name }) => {
          const list = samples[type].get(name)!
          return {
            stage: name,
            reached: list.length,
            touches: spread(list.map((l) => l.touches)),
            days: spread(list.map((l) => l.days)),
            channels: spread(list.map((l) => l.channels)),
          }
        })
      return { reference: B2B_REFERENCE, people: stages('person'), companies: stages('company') }
    },
  }
}

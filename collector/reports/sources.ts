import type { Journey } from '../stages/config'
import type { StageEntryRecord } from '../store/types'
import { runs, Tally, withinRange } from './stats'

/** How many of what, most first. */
export type Counted<T> = (T & { count: number })[]

export interface StageSources {
  stage: string
  sessions: number
  channels: Counted<{ channel: string }>
  sources: Counted<{ source: string; medium: string }>
  campaigns: Counted<{ campaign: string }>
}

export interface Attribution {
  stage: string
  /** People (known or not) who entered the stage in the range. */
  people: number
  /** The session that first brought them into the journey. */
  firstTouch: Counted<{ channel: string; source: string; campaign: string | null }>
  /** The session in which they entered the stage. */
  lastTouch: Counted<{ channel: string; source: string; campaign: string | null }>
}

/** Rows of a table kept to the top few: sources and campaigns can be many. */
const TOP = 25
const SEP = '\u0000'

/**
 * Stages whose first and last touches are reported: the ones a lead reaches by acting (decision
 * and after in the B2B journey), or the last stage of a shorter journey.
 */
export const attributedStages = (journey: Journey) =>
  journey.stages.length >= 3 ? journey.stages.slice(2).map((s) => s.name) : journey.stages.slice(-1).map((s) => s.name)

/** Sessions at each stage by channel, source and campaign; a session's stage is the furthest it reached. */
export function sessionSourcesFold(journey: Journey) {
  const byStage = new Map(journey.stages.map((s) => [s.name, { sessions: 0, channels: new Tally<string>(), sources: new Tally<string>(), campaigns: new Tally<string>() }]))
  return {
    /** Sessions from one source that reached one stage: one session, or a count of them. */
    add(session: { stage: string | null; channel: string; source: string; medium: string; campaign: string | null; sessions?: number }) {
      const tallies = session.stage && byStage.get(session.stage)
      if (!tallies) return
      const count = session.sessions ?? 1
      tallies.sessions += count
      tallies.channels.add(session.channel, count)
      tallies.sources.add(session.source + SEP + session.medium, count)
      if (session.campaign) tallies.campaigns.add(session.campaign, count)
    },
    result(): StageSources[] {
      return [...byStage].map(([stage, t]) => ({
        stage,
        sessions: t.sessions,
        channels: t.channels.top().map(([channel, count]) => ({ channel, count })),
        sources: t.sources.top(TOP).map(([key, count]) => {
          const [source, medium] = key.split(SEP)
          return { source, medium, count }
        }),
        campaigns: t.campaigns.top(TOP).map(([campaign, count]) => ({ campaign, count })),
      }))
    },
  }
}

export interface Flow {
  /** The channel that first brought them into the journey. */
  channel: string
  /** The furthest stage they had reached by the range's end: where they stopped, so far. */
  stage: string
  people: number
}

/** A touch as attribution names it: a missing channel or source is "unknown", an empty campaign none. */
export interface TouchKey {
  channel: string
  source: string
  campaign: string | null
}

/** What the sources report counts of owners' stage entries, asked of a store. */
export interface TouchQuery {
  from?: number
  to?: number
  /** The stages whose first and last touches are counted (attributedStages). */
  attributed: string[]
}

/**
 * The counts attribution and flows are made of (see touchCountsFold for their definition), in no
 * set order; a store may give one group in several rows, which add up.
 */
export interface TouchCounts {
  /** People who entered an attributed stage in the range, by the touch that first brought them in and the one that moved them there. */
  attribution: { stage: string; firstTouch: TouchKey; lastTouch: TouchKey; people: number }[]
  /** People who first came in the range, by their first channel and the furthest stage they had reached by its end. */
  flows: { channel: string; stage: string; people: number }[]
}

export const touchKey = (t: { channel: string | null; source: string | null; campaign: string | null }): TouchKey => ({
  channel: t.channel ?? 'unknown',
  source: t.source ?? 'unknown',
  campaign: t.campaign || null,
})

/**
 * Attribution's and flows' counts folded from each owner's stage entries, one owner at a time
 * (people and anonymous visitors; companies are left out): the definition every store's own
 * counting must match, and what a store narrowed to a segment counts with. `stages` are the
 * journey's, in order. Pure.
 */
export function touchCountsFold(stages: string[], query: TouchQuery) {
  const order = new Map(stages.map((stage, i) => [stage, i]))
  const attributed = new Set(query.attributed)
  const inRange = withinRange(query)
  const attribution = new Map<string, TouchCounts['attribution'][number]>()
  const flows = new Map<string, TouchCounts['flows'][number]>()
  return {
    add(owner: { ownerType: string; entries: StageEntryRecord[] }) {
      if (owner.ownerType === 'company') return
      const start = owner.entries.find((e) => e.stage === stages[0])
      for (const entry of owner.entries) {
        if (!attributed.has(entry.stage) || !inRange(entry.at)) continue
        const counted = { stage: entry.stage, firstTouch: touchKey(start ?? entry), lastTouch: touchKey(entry), people: 0 }
        const key = JSON.stringify(Object.values(counted))
        ;(attribution.get(key) ?? attribution.set(key, counted).get(key)!).people++
      }
      if (!start || !inRange(start.at)) return
      let furthest = 0
      for (const entry of owner.entries) if ((query.to === undefined || entry.at < query.to) && (order.get(entry.stage) ?? -1) > furthest) furthest = order.get(entry.stage)!
      const counted = { channel: start.channel ?? 'unknown', stage: stages[furthest], people: 0 }
      const key = JSON.stringify(Object.values(counted))
      ;(flows.get(key) ?? flows.set(key, counted).get(key)!).people++
    },
    result(): TouchCounts {
      return { attribution: [...attribution.values()], flows: [...flows.values()] }
    },
  }
}

/** touchCountsFold over a store's stage entries, grouped by owner as queryStageEntries gives them. */
export async function touchCountsOf(entries: AsyncIterable<StageEntryRecord>, stages: string[], query: TouchQuery): Promise<TouchCounts> {
  const fold = touchCountsFold(stages, query)
  for await (const owned of runs(entries, (e) => `${e.ownerType}:${e.ownerId}`)) fold.add({ ownerType: owned[0].ownerType, entries: owned })
  return fold.result()
}

/** Where people come from and where they stop, most first: the people who first came in the range, by first channel and furthest stage. Pure. */
export function flowsFrom(counts: TouchCounts): Flow[] {
  const flows = new Tally<string>()
  for (const f of counts.flows) flows.add(f.channel + SEP + f.stage, f.people)
  return flows.top().map(([key, people]) => {
    const [channel, stage] = key.split(SEP)
    return { channel, stage, people }
  })
}

/** First- and last-touch attribution of the people who entered each attributed stage in the range, in the journey's order. Pure. */
export function attributionFrom(journey: Journey, counts: TouchCounts): Attribution[] {
  const targets = new Map(attributedStages(journey).map((stage) => [stage, { people: 0, firstTouch: new Tally<string>(), lastTouch: new Tally<string>() }]))
  const key = (t: TouchKey) => [t.channel, t.source, t.campaign ?? ''].join(SEP)
  for (const a of counts.attribution) {
    const target = targets.get(a.stage)
    if (!target) continue
    target.people += a.people
    target.firstTouch.add(key(a.firstTouch), a.people)
    target.lastTouch.add(key(a.lastTouch), a.people)
  }
  const rows = (tally: Tally<string>) =>
    tally.top(TOP).map(([k, count]) => {
      const [channel, source, campaign] = k.split(SEP)
      return { channel, source, campaign: campaign || null, count }
    })
  return [...targets].map(([stage, t]) => ({ stage, people: t.people, firstTouch: rows(t.firstTouch), lastTouch: rows(t.lastTouch) }))
}

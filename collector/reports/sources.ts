import type { Journey } from '../stages/config'
import type { StageEntryRecord, Touch } from '../store/types'
import { Tally } from './stats'

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

/** Where people come from and where they stop: the people who first came in the range, by first channel and furthest stage. */
export function flowFold(journey: Journey, range: { from?: number; to?: number }) {
  const order = new Map(journey.stages.map((s, i) => [s.name, i]))
  const first = journey.stages[0].name
  const flows = new Tally<string>()
  return {
    add(owner: { ownerType: string; entries: StageEntryRecord[] }) {
      if (owner.ownerType === 'company') return
      const start = owner.entries.find((e) => e.stage === first)
      if (!start || (range.from !== undefined && start.at < range.from) || (range.to !== undefined && start.at >= range.to)) return
      let furthest = 0
      for (const entry of owner.entries) if ((range.to === undefined || entry.at < range.to) && order.get(entry.stage)! > furthest) furthest = order.get(entry.stage)!
      flows.add((start.channel ?? 'unknown') + SEP + journey.stages[furthest].name)
    },
    result(): Flow[] {
      return flows.top().map(([key, people]) => {
        const [channel, stage] = key.split(SEP)
        return { channel, stage, people }
      })
    },
  }
}

/** First- and last-touch attribution of the people who entered each attributed stage in the range. */
export function attributionFold(journey: Journey, range: { from?: number; to?: number }) {
  const first = journey.stages[0].name
  const targets = new Map(attributedStages(journey).map((stage) => [stage, { people: 0, firstTouch: new Tally<string>(), lastTouch: new Tally<string>() }]))
  const key = (t: Touch) => [t.channel ?? 'unknown', t.source ?? 'unknown', t.campaign ?? ''].join(SEP)
  const inRange = (at: number) => (range.from === undefined || at >= range.from) && (range.to === undefined || at < range.to)
  const rows = (tally: Tally<string>) =>
    tally.top(TOP).map(([k, count]) => {
      const [channel, source, campaign] = k.split(SEP)
      return { channel, source, campaign: campaign || null, count }
    })
  return {
    add(owner: { ownerType: string; entries: StageEntryRecord[] }) {
      if (owner.ownerType === 'company') return
      const firstEntry = owner.entries.find((e) => e.stage === first)
      for (const entry of owner.entries) {
        const target = targets.get(entry.stage)
        if (!target || !inRange(entry.at)) continue
        target.people++
        target.firstTouch.add(key(firstEntry ?? entry))
        target.lastTouch.add(key(entry))
      }
    },
    result(): Attribution[] {
      return [...targets].map(([stage, t]) => ({ stage, people: t.people, firstTouch: rows(t.firstTouch), lastTouch: rows(t.lastTouch) }))
    },
  }
}

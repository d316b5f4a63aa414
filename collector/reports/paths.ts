import { Tally } from './stats'

/** Steps a path shows at most: the first ones and the last ones, with "…" between. */
export const MAX_STEPS = 6
const GAP = '…'

/** What a person (or anonymous visitor) did, in order: the channels of their visits and the content they saw. */
export interface PathOwner {
  /** Each session's start and channel. */
  sessions: { at: number; channel: string }[]
  /** Each page view's time and path, and each download's (as `download:<file name>`). */
  content: { at: number; item: string }[]
  /** When they entered the goal stage; null if they have not. */
  goalAt: number | null
}

export interface PathCount {
  path: string[]
  count: number
  /** Of the group's owners. */
  share: number
}

export interface PathGroup {
  owners: number
  channels: PathCount[]
  content: PathCount[]
}

/** A page's content group: its first path segment (/blog/how-to → /blog); a download by its file name. */
export function contentGroup(path: string): string {
  const first = path.split('/').filter(Boolean)[0]
  return first ? `/${first}` : '/'
}

/**
 * A sequence as a path: repeats in a row collapsed (Direct, Direct, Email → Direct, Email), and a
 * long one shortened to its first and last steps, so the list counts journeys, not their lengths.
 */
export function collapse(steps: string[]): string[] {
  const path = steps.filter((step, i) => i === 0 || step !== steps[i - 1])
  if (path.length <= MAX_STEPS) return path
  return [...path.slice(0, MAX_STEPS - 3), GAP, ...path.slice(-2)]
}

/**
 * Paths: the most common sequences of channels and of content groups, in the journeys that
 * reached the goal stage (up to the moment they did) against those that did not (everything they
 * did), each counted once per person.
 */
export function pathsFold(options: { top: number }) {
  const groups = {
    reached: { owners: 0, channels: new Tally<string>(), content: new Tally<string>() },
    notReached: { owners: 0, channels: new Tally<string>(), content: new Tally<string>() },
  }
  const SEPARATOR = '\u0000'
  return {
    add(owner: PathOwner) {
      const until = owner.goalAt ?? Infinity
      const group = owner.goalAt === null ? groups.notReached : groups.reached
      const sessions = [...owner.sessions].filter((s) => s.at <= until).sort((a, b) => a.at - b.at)
      if (!sessions.length) return
      const content = [...owner.content].filter((c) => c.at <= until).sort((a, b) => a.at - b.at)
      group.owners++
      group.channels.add(collapse(sessions.map((s) => s.channel)).join(SEPARATOR))
      if (content.length) group.content.add(collapse(content.map((c) => c.item)).join(SEPARATOR))
    },
    result(): { reached: PathGroup; notReached: PathGroup } {
      const list = (tally: Tally<string>, owners: number): PathCount[] =>
        tally.top(options.top).map(([key, count]) => ({ path: key.split(SEPARATOR), count, share: Math.round((count / owners) * 10_000) / 10_000 }))
      const shape = (g: typeof groups.reached): PathGroup => ({ owners: g.owners, channels: list(g.channels, g.owners), content: list(g.content, g.owners) })
      return { reached: shape(groups.reached), notReached: shape(groups.notReached) }
    },
  }
}

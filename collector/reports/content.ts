import type { Journey } from '../stages/config'
import type { EventRecord, StageEntryRecord } from '../store/types'
import { Tally } from './stats'

export interface StageContent {
  stage: string
  pages: { path: string; views: number; people: number }[]
  events: { name: string; count: number; people: number }[]
}

const TOP = 20

/**
 * The pages and custom events most seen at each stage: each page view or track event counts
 * at the stage its person (or anonymous visitor) was in when it happened, the page that moved
 * them into a stage counting at that stage.
 */
export function contentFold(journey: Journey, entries: Map<string, StageEntryRecord[]>) {
  // The caller hands its owners' entries over: they are sorted here, in place.
  const order = new Map(journey.stages.map((s, i) => [s.name, i]))
  // Each owner's entries, sorted for the lookup: latest entry at or before a moment.
  for (const list of entries.values()) list.sort((a, b) => a.at - b.at || order.get(a.stage)! - order.get(b.stage)!)
  const stages = journey.stages.map(() => ({ pages: new Tally<string>(), pagePeople: new Map<string, Set<string>>(), events: new Tally<string>(), eventPeople: new Map<string, Set<string>>() }))
  const seenBy = (people: Map<string, Set<string>>, key: string, owner: string) => {
    let set = people.get(key)
    if (!set) people.set(key, (set = new Set()))
    set.add(owner)
  }
  return {
    add(event: Pick<EventRecord, 'kind' | 'name' | 'path' | 'occurredAt' | 'personId' | 'visitorId' | 'isBot'>) {
      if (event.isBot || (event.kind !== 'pageview' && event.kind !== 'track')) return
      const owner = event.personId ? `person:${event.personId}` : `visitor:${event.visitorId}`
      const list = entries.get(owner)
      if (!list) return
      let stage: string | undefined
      for (const entry of list) {
        if (entry.at > event.occurredAt) break
        stage = entry.stage
      }
      if (stage === undefined) return
      const tallies = stages[order.get(stage)!]
      if (event.kind === 'pageview') {
        tallies.pages.add(event.path)
        seenBy(tallies.pagePeople, event.path, owner)
      } else if (event.name) {
        tallies.events.add(event.name)
        seenBy(tallies.eventPeople, event.name, owner)
      }
    },
    result(): StageContent[] {
      return journey.stages.map((s, i) => ({
        stage: s.name,
        pages: stages[i].pages.top(TOP).map(([path, views]) => ({ path, views, people: stages[i].pagePeople.get(path)!.size })),
        events: stages[i].events.top(TOP).map(([name, count]) => ({ name, count, people: stages[i].eventPeople.get(name)!.size })),
      }))
    },
  }
}

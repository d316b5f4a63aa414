import type { Journey } from '../stages/config'
import type { EventRecord, PageEvent, StageEntryRecord } from '../store/types'
import { DAY_MS, percentile, rate, withinRange } from './stats'

/** A page view or download assisted a conversion when it came at most this long before the owner entered the goal stage. */
export const INFLUENCE_WINDOW_MS = 30 * DAY_MS
/** Scroll depth, in % of the page, at which a page counts as read. */
export const READ_DEPTH = 75

/** One owner's stage entries, as the content and CTA reports need them. */
export type OwnerStageEntries = Pick<StageEntryRecord, 'stage' | 'at'>[]

/**
 * The owner an event counts for, keyed as stage entries are: the person when the visitor is
 * known (before or after the event), else the anonymous visitor.
 */
export const ownerOf = (event: Pick<EventRecord, 'personId' | 'visitorId'>) => (event.personId ? `person:${event.personId}` : `visitor:${event.visitorId}`)

/**
 * Looks up an owner's stage at a moment: the latest entry at or before it, the furthest in the
 * journey when several share that moment (a deal won enters every stage at once); null before
 * any entry. The caller hands its owners' entries over: they are sorted here, in place.
 */
export function stageLookup(journey: Journey, entries: Map<string, OwnerStageEntries>) {
  const order = new Map(journey.stages.map((s, i) => [s.name, i]))
  for (const list of entries.values()) list.sort((a, b) => a.at - b.at || order.get(a.stage)! - order.get(b.stage)!)
  return (owner: string, at: number): string | null => {
    let stage: string | null = null
    for (const entry of entries.get(owner) ?? []) {
      if (entry.at > at) break
      stage = entry.stage
    }
    return stage
  }
}

/** The stage a content report measures influence toward when none is asked for: decision, else the journey's last. */
export const defaultGoal = (journey: Journey) => (journey.stages.some((s) => s.name === 'decision') ? 'decision' : journey.stages.at(-1)!.name)

/** How many of an item's views (or downloads) happened while their owner was in a stage. */
export interface ViewsAtStage {
  stage: string
  views: number
}

/**
 * Whether those who reached the goal had consumed the item more often than visitors at large:
 * ratio = (assisted ÷ converters) ÷ (consumers ÷ owners). Above 1, converters consumed it more
 * than the average visitor did.
 */
export interface Influence {
  /** Owners who entered the goal stage in the range. */
  converters: number
  /** Of those, owners who viewed (downloaded) the item in the 30 days up to and including their entry into the goal stage. */
  assisted: number
  /** Owners who viewed (downloaded) the item in the range or the 30 days before it. */
  consumers: number
  /** Owners who viewed or downloaded anything in the range or the 30 days before it. */
  owners: number
  /** Rounded to 2 places; null when converters, owners or consumers are 0. */
  ratio: number | null
}

/** What the content report says of a page or a downloaded file, over the range. */
export interface ContentItem {
  /** Page views, or downloads. */
  views: number
  /** Distinct owners (known people and anonymous visitors) who viewed or downloaded it. */
  visitors: number
  /** Of the visitors, the known people. */
  known: number
  /** known ÷ visitors. */
  knownShare: number | null
  /** Views (downloads) by the stage their owner was in at the time, every stage of the journey in order. */
  stages: ViewsAtStage[]
  influence: Influence
}

export interface PageItem extends ContentItem {
  path: string
  /** Visitors whose deepest reported scroll on the page reached 75 %. */
  readPast75: number
  /** readPast75 ÷ visitors for whom the tag reported a scroll depth on the page; null if it reported none. */
  read75Share: number | null
  /** Median visible, active time of the page's views, over the views the tag reported it for. */
  medianEngagedMs: number | null
}

export interface FileItem extends ContentItem {
  /** The file's URL without query or fragment. */
  url: string
}

export interface ContentTotals {
  /** Distinct pages viewed in the range, and their views. */
  pages: number
  pageViews: number
  /** Distinct files downloaded in the range, and their downloads. */
  files: number
  downloads: number
  /** Owners who viewed or downloaded anything in the range or the 30 days before it (every item's influence.owners). */
  owners: number
  /** Owners who entered the goal stage in the range (every item's influence.converters). */
  converters: number
}

export interface Content {
  pages: PageItem[]
  files: FileItem[]
  totals: ContentTotals
}

export interface ContentOptions {
  from?: number
  to?: number
  /** The stage whose entry counts as converting. */
  goal: string
  /** At most this many pages, and this many files. */
  limit: number
}

export type ContentEvent = PageEvent

/**
 * Pages and downloaded files: who viewed them, how far they read, at what stage, and how often
 * they came before a conversion. Fed page views and downloads in the range and, for the
 * influence, those of the 30 days before it (a converter early in the range may have read
 * the page just before it); only in-range events count toward everything else. The owners'
 * stage entries come last, to `result`: only those the events name are needed (`owners()`),
 * a tenth of all owners on a busy site's 60 days.
 */
export function contentFold(journey: Journey, options: ContentOptions) {
  const stageIndex = new Map(journey.stages.map((s, i) => [s.name, i]))
  const inRange = withinRange(options)
  // Owners by number, so that each item's sets hold numbers rather than a string per event.
  const ownerNumbers = new Map<string, number>()
  const owners: string[] = []
  const numberOf = (owner: string) => {
    let number = ownerNumbers.get(owner)
    if (number === undefined) ownerNumbers.set(owner, (number = owners.push(owner) - 1))
    return number
  }

  const blank = () => ({
    views: 0,
    visitors: new Set<number>(),
    viewsAtStage: journey.stages.map(() => 0),
    assisted: new Set<number>(),
    /** Owners who consumed it in the influence window: the range and the 30 days before it. */
    reached: new Set<number>(),
    deepestScroll: new Map<number, number>(),
    engagedMs: [] as number[],
  })
  type Tallies = ReturnType<typeof blank>
  const pages = new Map<string, Tallies>()
  const files = new Map<string, Tallies>()
  // What waits for the stage entries: each counted event's item, owner, time and whether it was in the range.
  const counted = { items: [] as Tallies[], owners: [] as number[], at: [] as number[], inside: [] as boolean[] }

  return {
    add(event: ContentEvent) {
      if (event.isBot) return
      const items = event.kind === 'pageview' ? pages : event.kind === 'file_download' ? files : undefined
      const key = event.kind === 'pageview' ? event.path : event.name
      if (!items || !key) return
      const inside = inRange(event.occurredAt)
      const inWindow = options.from === undefined || event.occurredAt >= options.from - INFLUENCE_WINDOW_MS
      if (!inWindow || (options.to !== undefined && event.occurredAt >= options.to)) return
      let item = items.get(key)
      if (!item) items.set(key, (item = blank()))
      const owner = numberOf(ownerOf(event))
      item.reached.add(owner)
      counted.items.push(item)
      counted.owners.push(owner)
      counted.at.push(event.occurredAt)
      counted.inside.push(inside)
      if (!inside) return

      item.views++
      item.visitors.add(owner)
      if (typeof event.scrollDepth === 'number') item.deepestScroll.set(owner, Math.max(event.scrollDepth, item.deepestScroll.get(owner) ?? 0))
      if (typeof event.engagedMs === 'number') item.engagedMs.push(event.engagedMs)
    },

    /** Whose stage entries `result` needs: every owner of an event added, keyed as stage entries are. */
    owners: (): readonly string[] => owners,

    /**
     * Given the stage entries of at least the owners of the events added; `converters` is how many
     * owners entered the goal stage in the range, counted from `entries` when not given (then
     * `entries` must hold every owner's, not only those who viewed something).
     */
    result(entries: Map<string, OwnerStageEntries>, converters?: number): Content {
      const stageAt = stageLookup(journey, entries)
      // The converters, and when each entered the goal stage.
      const goalEnteredAt = new Map<string, number>()
      for (const [owner, list] of entries) {
        if (owner.startsWith('company:')) continue
        const entry = list.find((e) => e.stage === options.goal)
        if (entry && inRange(entry.at)) goalEnteredAt.set(owner, entry.at)
      }
      converters ??= goalEnteredAt.size
      for (let i = 0; i < counted.at.length; i++) {
        const item = counted.items[i]
        const owner = owners[counted.owners[i]]
        const at = counted.at[i]
        const goalAt = goalEnteredAt.get(owner)
        if (goalAt !== undefined && at <= goalAt && at >= goalAt - INFLUENCE_WINDOW_MS) item.assisted.add(counted.owners[i])
        if (!counted.inside[i]) continue
        const stage = stageAt(owner, at)
        if (stage !== null) item.viewsAtStage[stageIndex.get(stage)!]++
      }
      // The influence compares like with like: converters' 30 days before converting against everyone's
      // range and 30 days before it, so its ratio does not depend on how long the range is.
      const influenceBase = owners.length
      const common = (t: Tallies): ContentItem => {
        const visitors = t.visitors.size
        const known = [...t.visitors].filter((owner) => owners[owner].startsWith('person:')).length
        const assisted = t.assisted.size
        return {
          views: t.views,
          visitors,
          known,
          knownShare: rate(known, visitors),
          stages: journey.stages.map((s, i) => ({ stage: s.name, views: t.viewsAtStage[i] })),
          influence: {
            converters,
            assisted,
            consumers: t.reached.size,
            owners: influenceBase,
            ratio: converters && t.reached.size ? Math.round((assisted / converters / (t.reached.size / influenceBase)) * 100) / 100 : null,
          },
        }
      }
      // Items only assisted from before the range were not consumed in it: they are not listed.
      const consumed = (items: Map<string, Tallies>) => [...items].filter(([, t]) => t.views > 0)
      const mostVisited = <Item extends ContentItem>(list: Item[], keyOf: (item: Item) => string) =>
        list.sort((a, b) => b.visitors - a.visitors || b.views - a.views || keyOf(a).localeCompare(keyOf(b))).slice(0, options.limit)

      const viewedPages = consumed(pages)
      const downloadedFiles = consumed(files)
      const pageItems = viewedPages.map(([path, t]): PageItem => {
        const depths = [...t.deepestScroll.values()]
        const readPast75 = depths.filter((depth) => depth >= READ_DEPTH).length
        return { path, ...common(t), readPast75, read75Share: rate(readPast75, depths.length), medianEngagedMs: percentile(t.engagedMs, 0.5) }
      })
      const fileItems = downloadedFiles.map(([url, t]): FileItem => ({ url, ...common(t) }))
      const sum = (list: [string, Tallies][]) => list.reduce((total, [, t]) => total + t.views, 0)
      return {
        pages: mostVisited(pageItems, (p) => p.path),
        files: mostVisited(fileItems, (f) => f.url),
        totals: { pages: viewedPages.length, pageViews: sum(viewedPages), files: downloadedFiles.length, downloads: sum(downloadedFiles), owners: influenceBase, converters },
      }
    },
  }
}

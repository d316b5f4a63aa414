import { describe, expect, it } from 'vitest'
import { contentFold, defaultGoal, type ContentEvent, type OwnerStageEntries } from '../../../collector/reports/content'
import { DEFAULT_JOURNEY, type Journey } from '../../../collector/stages/config'

const HOUR = 3_600_000
const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1)
/** The report's range: 30 days from T0, `to` exclusive. */
const RANGE = { from: T0, to: T0 + 30 * DAY }
const GUIDE = 'https://www.example.com/files/sizing-guide.pdf'

/** Stage entries keyed as the reports key owners: `person:<id>` or `visitor:<id>`. */
function entriesOf(owners: Record<string, [stage: string, at: number][]>) {
  const map = new Map<string, OwnerStageEntries>()
  for (const [owner, list] of Object.entries(owners)) map.set(owner, list.map(([stage, at]) => ({ stage, at })))
  return map
}

/** An event of an owner given as the reports key them: `person:p1` (a known person) or `visitor:v1` (anonymous). */
function event(kind: ContentEvent['kind'], at: number, owner: string, more: Partial<ContentEvent> = {}): ContentEvent {
  const [type, id] = owner.split(':')
  return {
    kind, name: null, path: '/', occurredAt: at, isBot: false, scrollDepth: null, engagedMs: null,
    personId: type === 'person' ? id : null, visitorId: type === 'person' ? `device-of-${id}` : id,
    ...more,
  }
}
const view = (at: number, path: string, owner: string, more: Partial<ContentEvent> = {}) => event('pageview', at, owner, { path, ...more })
const download = (at: number, url: string, owner: string, more: Partial<ContentEvent> = {}) => event('file_download', at, owner, { name: url, path: '/resources', ...more })

function content(events: ContentEvent[], { entries = {}, goal = 'decision', limit = 50, range = RANGE, journey = DEFAULT_JOURNEY }: {
  entries?: Record<string, [string, number][]>; goal?: string; limit?: number; range?: { from?: number; to?: number }; journey?: Journey
} = {}) {
  const fold = contentFold(journey, { ...range, goal, limit })
  for (const e of events) fold.add(e)
  const result = fold.result(entriesOf(entries))
  return { ...result, page: (path: string) => result.pages.find((p) => p.path === path)!, file: (url: string) => result.files.find((f) => f.url === url)! }
}

describe('Content: pages and downloaded files', () => {
  it('counts views and distinct visitors per page, and downloads per file, keyed by path and by URL', () => {
    const { page, file, totals } = content([
      view(T0 + HOUR, '/pricing', 'person:p1'),
      view(T0 + 2 * HOUR, '/pricing', 'person:p1'),
      view(T0 + HOUR, '/pricing', 'visitor:v1'),
      view(T0 + HOUR, '/blog', 'visitor:v1'),
      download(T0 + HOUR, GUIDE, 'visitor:v1'),
      download(T0 + 3 * HOUR, GUIDE, 'visitor:v1'),
    ])
    expect(page('/pricing')).toMatchObject({ path: '/pricing', views: 3, visitors: 2 })
    expect(page('/blog')).toMatchObject({ views: 1, visitors: 1 })
    // The download's page (/resources) is not a page view.
    expect(page('/resources')).toBeUndefined()
    expect(file(GUIDE)).toMatchObject({ url: GUIDE, views: 2, visitors: 1 })
    expect(totals).toEqual({ pages: 2, pageViews: 4, files: 1, downloads: 2, owners: 2, converters: 0 })
  })

  it('counts as known the visitors who are known people, identified before or after the view', () => {
    // The store gives an event the person its visitor became, even if they identified later: p2's
    // view came before its identify, and still carries p2.
    const { page } = content([
      view(T0, '/pricing', 'person:p1'),
      view(T0, '/pricing', 'person:p1'),
      view(T0, '/pricing', 'person:p2'),
      view(T0, '/pricing', 'visitor:v1'),
      view(T0, '/blog', 'visitor:v2'),
    ])
    // /pricing: p1, p2 and v1 are 3 visitors, 2 of them known: 2 ÷ 3 = 0.6667.
    expect(page('/pricing')).toMatchObject({ visitors: 3, known: 2, knownShare: 0.6667 })
    expect(page('/blog')).toMatchObject({ visitors: 1, known: 0, knownShare: 0 })
  })

  it('counts a visitor as having read past 75 % by their deepest scroll, over the visitors whose scroll was reported', () => {
    const { page } = content([
      view(T0, '/guide', 'person:p1', { scrollDepth: 40 }),
      view(T0 + HOUR, '/guide', 'person:p1', { scrollDepth: 80 }), // p1's deepest, 80: read
      view(T0, '/guide', 'person:p2', { scrollDepth: 75 }), // exactly 75: read
      view(T0, '/guide', 'person:p3', { scrollDepth: 74 }), // not read
      view(T0, '/guide', 'visitor:v1', { scrollDepth: null }), // the tag reported nothing: not counted either way
      view(T0, '/guide', 'visitor:v2', { scrollDepth: undefined }),
      view(T0, '/other', 'visitor:v3'),
    ])
    // 5 visitors; 3 with a reported scroll (p1, p2, p3), of whom 2 read past 75 %: 2 ÷ 3 = 0.6667.
    expect(page('/guide')).toMatchObject({ visitors: 5, readPast75: 2, read75Share: 0.6667 })
    expect(page('/other')).toMatchObject({ readPast75: 0, read75Share: null })
  })

  it('gives the median engaged time over the views that reported one', () => {
    const { page } = content([
      view(T0, '/a', 'person:p1', { engagedMs: 10_000 }),
      view(T0, '/a', 'person:p1', { engagedMs: 40_000 }),
      view(T0, '/a', 'person:p2', { engagedMs: 20_000 }),
      view(T0, '/a', 'person:p3', { engagedMs: null }), // not reported: left out, not taken as 0
      view(T0, '/b', 'person:p1', { engagedMs: 10_000 }),
      view(T0, '/b', 'person:p1', { engagedMs: 20_000 }),
      view(T0, '/b', 'person:p1', { engagedMs: 40_000 }),
      view(T0, '/b', 'person:p1', { engagedMs: 100_000 }),
      view(T0, '/c', 'person:p1'),
    ])
    // /a: 10, 20, 40 s → the middle one, 20 s.
    expect(page('/a').medianEngagedMs).toBe(20_000)
    // /b: 10, 20, 40, 100 s → halfway between 20 and 40: 30 s.
    expect(page('/b').medianEngagedMs).toBe(30_000)
    expect(page('/c').medianEngagedMs).toBeNull()
  })

  it('counts each view and download at the stage its owner was in at that moment', () => {
    const { page, file } = content(
      [
        view(T0 + HOUR, '/docs', 'person:p1'), // awareness
        view(T0 + 2 * DAY, '/docs', 'person:p1'), // the view that moved p1 to consideration counts there
        view(T0 + 3 * DAY, '/docs', 'person:p1'), // consideration
        view(T0 + 3 * DAY, '/docs', 'person:p2'), // p2 enters decision and purchase at one moment: the furthest, purchase
        view(T0 + 4 * DAY, '/docs', 'person:p3'), // before p3's first entry: no stage
        view(T0 + HOUR, '/docs', 'visitor:v1'), // no entries at all: no stage
        download(T0 + 3 * DAY, GUIDE, 'person:p1'), // consideration
      ],
      {
        // Given out of order: the fold sorts each owner's entries.
        entries: {
          'person:p1': [['consideration', T0 + 2 * DAY], ['awareness', T0]],
          'person:p2': [['purchase', T0 + DAY], ['awareness', T0], ['decision', T0 + DAY]],
          'person:p3': [['awareness', T0 + 5 * DAY]],
        },
      },
    )
    expect(page('/docs').views).toBe(6)
    // 1 + 2 + 1 = 4 of the 6 views at a stage; p3's and v1's count nowhere.
    expect(page('/docs').stages).toEqual([
      { stage: 'awareness', views: 1 },
      { stage: 'consideration', views: 2 },
      { stage: 'decision', views: 0 },
      { stage: 'purchase', views: 1 },
      { stage: 'loyalty', views: 0 },
      { stage: 'advocacy', views: 0 },
    ])
    expect(file(GUIDE).stages.find((s) => s.stage === 'consideration')).toEqual({ stage: 'consideration', views: 1 })
  })

  it('takes the owner as the person when the event has one, else as the anonymous visitor', () => {
    const { page } = content(
      [view(T0 + HOUR, '/known', 'person:p1', { visitorId: 'v9' }), view(T0 + HOUR, '/anonymous', 'visitor:v9')],
      // v9 is the visitor id p1 browses with, with stage entries of its own that p1's view must not use.
      { entries: { 'person:p1': [['awareness', T0]], 'visitor:v9': [['consideration', T0]] } },
    )
    expect(page('/known').stages[0]).toEqual({ stage: 'awareness', views: 1 })
    expect(page('/anonymous').stages[1]).toEqual({ stage: 'consideration', views: 1 })
    expect(page('/known')).toMatchObject({ visitors: 1, known: 1 })
  })
})

describe('Content: influence on the goal stage', () => {
  // Range [T0, T0 + 30 d); the goal is decision.
  const entries: Record<string, [string, number][]> = {
    'person:p1': [['decision', T0 + 10 * DAY]], // converter
    'person:p3': [['decision', T0 + 20 * DAY]], // converter
    'person:p4': [['decision', T0 + 25 * DAY]], // converter
    'person:p5': [['decision', T0 + 12 * DAY]], // converter
    'person:p2': [['decision', T0 + 30 * DAY]], // entered at the range's end: outside it, not a converter
    'person:p6': [['decision', T0 - DAY]], // before the range: not a converter
  }
  const events = [
    view(T0 + 5 * DAY, '/case-study', 'person:p1'), // 5 days before p1 converted: assisted
    view(T0 + 20 * DAY - 30 * DAY, '/case-study', 'person:p3'), // exactly 30 days before p3 converted: assisted, though before the range
    view(T0 + 25 * DAY - 30 * DAY - 1, '/case-study', 'person:p4'), // 30 days and 1 ms before: too early
    view(T0 + 13 * DAY, '/case-study', 'person:p5'), // a day after p5 converted: not an assist
    view(T0 + 20 * DAY, '/case-study', 'person:p2'), // p2 converted after the range
    view(T0 + 2 * DAY, '/case-study', 'person:p6'),
    view(T0 + 3 * DAY, '/case-study', 'visitor:v1'),
    view(T0 + 21 * DAY, '/pricing', 'person:p3'), // after p3 converted
    view(T0 + 24 * DAY, '/pricing', 'person:p4'), // a day before p4 converted: assisted
    view(T0 + DAY, '/pricing', 'visitor:v2'),
    view(T0 + DAY, '/pricing', 'visitor:v3'),
  ]

  it('counts converters, the converters it assisted, its consumers and all owners, and their ratio', () => {
    const { page, totals } = content(events, { entries })
    // Converters: p1, p3, p4, p5 = 4.
    // The influence window is the range and the 30 days before it, for converters and everyone alike.
    // Owners who consumed anything in it: p1, p2, p3, p4, p5, p6, v1 (case study), v2, v3 (pricing) = 9.
    // /case-study in it: p1, p2, p3, p4 (before the range, within the window), p5, p6, v1 = 7 consumers.
    // Assisted: p1, and p3 (whose view, before the range, was within 30 days of converting) = 2.
    // Ratio: (2 ÷ 4) ÷ (7 ÷ 9) = 0.5 × 9 ÷ 7 = 0.642… → 0.64.
    expect(page('/case-study').influence).toEqual({ converters: 4, assisted: 2, consumers: 7, owners: 9, ratio: 0.64 })
    // Its visitors in the range alone are 5: p3's and p4's views came before it.
    expect(page('/case-study').visitors).toBe(5)
    // /pricing: consumers p3, p4, v2, v3 = 4; assisted p4 = 1. (1 ÷ 4) ÷ (4 ÷ 9) = 0.5625 → 0.56.
    expect(page('/pricing').influence).toEqual({ converters: 4, assisted: 1, consumers: 4, owners: 9, ratio: 0.56 })
    expect(totals).toMatchObject({ owners: 9, converters: 4, pages: 2, pageViews: 9 })
  })

  it('needs only the stage entries of the owners its events name, given the count of converters who read nothing', () => {
    const fold = contentFold(DEFAULT_JOURNEY, { ...RANGE, goal: 'decision', limit: 50 })
    for (const e of events) fold.add(e)
    // p1 to p6, v1, v2, v3: the nine owners of the events, each named once.
    expect([...fold.owners()].sort()).toEqual(['person:p1', 'person:p2', 'person:p3', 'person:p4', 'person:p5', 'person:p6', 'visitor:v1', 'visitor:v2', 'visitor:v3'])
    // Two more converters, who read nothing, come as a count: 6 converters, their entries not needed.
    const { pages, totals } = fold.result(entriesOf(entries), 6)
    expect(pages.find((p) => p.path === '/case-study')!.influence).toEqual({ converters: 6, assisted: 2, consumers: 7, owners: 9, ratio: 0.43 })
    expect(totals).toMatchObject({ owners: 9, converters: 6 })
  })

  it('counts a view at the very moment of entering the goal as an assist: it may be what moved them', () => {
    const { page } = content([view(T0 + DAY, '/demo', 'person:p1'), view(T0 + DAY, '/demo', 'visitor:v1'), view(T0 + DAY, '/blog', 'visitor:v2')], {
      entries: { 'person:p1': [['decision', T0 + DAY]] },
    })
    // (1 ÷ 1) ÷ (2 ÷ 3) = 1.5.
    expect(page('/demo').influence).toEqual({ converters: 1, assisted: 1, consumers: 2, owners: 3, ratio: 1.5 })
  })

  it('measures downloads against every owner who consumed content, and lists no item consumed only before the range', () => {
    const { file, files, totals } = content(
      [
        download(T0 - DAY, 'https://www.example.com/files/old.pdf', 'person:p1'), // an assist, but no download in the range
        download(T0 + DAY, GUIDE, 'person:p1'),
        download(T0 + DAY, GUIDE, 'visitor:v1'),
        view(T0 + DAY, '/', 'person:p1'),
        view(T0 + DAY, '/', 'visitor:v1'),
        view(T0 + DAY, '/', 'visitor:v2'),
        view(T0 + DAY, '/', 'visitor:v3'),
      ],
      { entries: { 'person:p1': [['decision', T0 + 2 * DAY]], 'person:p2': [['decision', T0 + 3 * DAY]] } },
    )
    // Converters p1 and p2; the guide assisted p1. Owners: 4 with a page view; consumers: p1, v1.
    // (1 ÷ 2) ÷ (2 ÷ 4) = 1.
    expect(file(GUIDE).influence).toEqual({ converters: 2, assisted: 1, consumers: 2, owners: 4, ratio: 1 })
    expect(files.map((f) => f.url)).toEqual([GUIDE])
    expect(totals).toMatchObject({ files: 1, downloads: 2 })
  })

  it('has no ratio when nobody converted', () => {
    expect(content([view(T0, '/a', 'person:p1')]).page('/a').influence).toEqual({ converters: 0, assisted: 0, consumers: 1, owners: 1, ratio: null })
  })

  it('counts a visitor who only downloaded among the owners, so consumers are always some of them', () => {
    const onlyDownloads = content([download(T0 + DAY, GUIDE, 'person:p1')], { entries: { 'person:p1': [['decision', T0 + DAY]] } })
    // (1 ÷ 1) ÷ (1 ÷ 1) = 1.
    expect(onlyDownloads.file(GUIDE).influence).toEqual({ converters: 1, assisted: 1, consumers: 1, owners: 1, ratio: 1 })
  })

  it('measures toward the goal asked for, and counts every converter when there is no range', () => {
    const { page } = content([view(T0, '/a', 'person:p1'), view(T0, '/a', 'person:p2')], {
      goal: 'purchase',
      range: {},
      entries: { 'person:p1': [['decision', T0], ['purchase', T0 + DAY]], 'person:p2': [['decision', T0 + DAY]] },
    })
    // Only p1 purchased; (1 ÷ 1) ÷ (2 ÷ 2) = 1.
    expect(page('/a').influence).toEqual({ converters: 1, assisted: 1, consumers: 2, owners: 2, ratio: 1 })
  })

  it('defaults the goal to decision, or to the last stage of a journey without one', () => {
    expect(defaultGoal(DEFAULT_JOURNEY)).toBe('decision')
    expect(defaultGoal({ name: 'self-serve', stages: [{ name: 'visit', when: [] }, { name: 'signup', when: [] }, { name: 'paid', when: [] }] })).toBe('paid')
  })
})

describe('Content: what counts, order and limit', () => {
  it('leaves out bots entirely: their views, their visits as owners and their assists', () => {
    const { page, totals } = content(
      [
        view(T0, '/a', 'person:p1'),
        view(T0, '/a', 'person:p2', { isBot: true, scrollDepth: 10, engagedMs: 5 }),
        view(T0, '/bot-only', 'visitor:b1', { isBot: true }),
        download(T0, GUIDE, 'visitor:b1', { isBot: true }),
      ],
      { entries: { 'person:p2': [['awareness', T0], ['decision', T0 + DAY]] } },
    )
    expect(page('/a')).toMatchObject({ views: 1, visitors: 1, read75Share: null, medianEngagedMs: null })
    expect(page('/a').influence).toMatchObject({ converters: 1, assisted: 0, owners: 1 })
    expect(page('/bot-only')).toBeUndefined()
    expect(totals).toMatchObject({ pages: 1, files: 0, owners: 1 })
  })

  it('ignores other kinds of event, downloads without a URL, and views outside the range', () => {
    const { pages, files } = content([
      view(T0, '/counted', 'person:p1'),
      event('track', T0, 'person:p1', { name: 'Webinar', path: '/track' }),
      event('cta', T0, 'person:p1', { name: 'Book demo', path: '/cta' }),
      event('outbound_click', T0, 'person:p1', { name: 'https://elsewhere.example/', path: '/out' }),
      download(T0, '', 'person:p1'),
      view(T0 - 1, '/too-early', 'person:p1'),
      view(T0 + 30 * DAY, '/too-late', 'person:p1'),
    ])
    expect(pages.map((p) => p.path)).toEqual(['/counted'])
    expect(files).toEqual([])
  })

  it('orders by visitors, then views, then key, and keeps at most `limit` of each list, the totals counting all', () => {
    const { pages, files, totals } = content(
      [
        view(T0, '/b', 'person:p1'), view(T0, '/b', 'person:p2'), // 2 visitors, 2 views
        view(T0, '/a', 'person:p1'), view(T0, '/a', 'person:p2'), // 2 visitors, 2 views: ties /b, first by path
        view(T0, '/c', 'person:p1'), view(T0, '/c', 'person:p1'), view(T0, '/c', 'person:p1'), // 1 visitor, 3 views
        view(T0, '/d', 'person:p1'), view(T0, '/d', 'person:p2'), view(T0, '/d', 'person:p2'), // 2 visitors, 3 views: first
        download(T0, 'https://x.example/1.pdf', 'person:p1'),
        download(T0, 'https://x.example/2.pdf', 'person:p1'), download(T0, 'https://x.example/2.pdf', 'person:p2'),
        download(T0, 'https://x.example/3.pdf', 'person:p3'),
      ],
      { limit: 2 },
    )
    expect(pages.map((p) => p.path)).toEqual(['/d', '/a'])
    expect(files.map((f) => f.url)).toEqual(['https://x.example/2.pdf', 'https://x.example/1.pdf'])
    // Owners: p1 and p2 viewed pages, p3 only downloaded: everyone who consumed content.
    expect(totals).toEqual({ pages: 4, pageViews: 10, files: 3, downloads: 4, owners: 3, converters: 0 })
  })
})

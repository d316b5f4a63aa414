import { describe, expect, it } from 'vitest'
import { contentFold } from '../../../collector/reports/content'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import type { OwnerType, StageEntryRecord } from '../../../collector/store/types'

const HOUR = 3_600_000
const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1, 9)

type ContentEvent = Parameters<ReturnType<typeof contentFold>['add']>[0]

/** Entries keyed as the reports key owners: `person:<id>` or `visitor:<id>`. */
function entriesOf(owners: Record<string, [stage: string, at: number][]>) {
  const map = new Map<string, StageEntryRecord[]>()
  for (const [key, list] of Object.entries(owners)) {
    const [ownerType, ownerId] = key.split(':') as [OwnerType, string]
    map.set(key, list.map(([stage, at]) => ({
      ownerType, ownerId, stage, at, page: null, sessionId: 's', channel: null, source: null, medium: null, campaign: null,
    })))
  }
  return map
}

/** An event of a known person (personId set) or, with `visitor`, of an anonymous visitor. */
const pageview = (at: number, path: string, who: { personId?: string; visitorId?: string } = { personId: 'p1' }, over: Partial<ContentEvent> = {}): ContentEvent => ({
  kind: 'pageview', name: null, path, occurredAt: at, personId: who.personId ?? null, visitorId: who.visitorId ?? 'v0', isBot: false, ...over,
})
const track = (at: number, name: string | null, who: { personId?: string; visitorId?: string } = { personId: 'p1' }): ContentEvent => ({
  ...pageview(at, '/app', who), kind: 'track', name,
})

function content(owners: Record<string, [string, number][]>, events: ContentEvent[]) {
  const fold = contentFold(DEFAULT_JOURNEY, entriesOf(owners))
  for (const e of events) fold.add(e)
  const result = fold.result()
  return { result, stage: (name: string) => result.find((s) => s.stage === name)! }
}

describe('Content by stage', () => {
  it('lists every stage of the journey, in order, empty when nothing was seen', () => {
    expect(content({}, []).result).toEqual(DEFAULT_JOURNEY.stages.map((s) => ({ stage: s.name, pages: [], events: [] })))
  })

  it('counts each page view and track event at the stage the person was in when it happened', () => {
    const { stage } = content(
      // Given out of order: the fold sorts each owner's entries itself.
      { 'person:p1': [['decision', T0 + 2 * DAY], ['awareness', T0], ['consideration', T0 + DAY]] },
      [
        pageview(T0, '/'), // the visit that entered awareness counts there
        pageview(T0 + HOUR, '/blog'),
        pageview(T0 + DAY, '/pricing'), // the page that moved them to consideration counts there
        pageview(T0 + DAY + HOUR, '/pricing'),
        track(T0 + 2 * DAY, 'Demo Requested'), // the event that moved them to decision counts there
        pageview(T0 + 5 * DAY, '/thanks'),
      ],
    )
    expect(stage('awareness')).toEqual({
      stage: 'awareness',
      pages: [{ path: '/', views: 1, people: 1 }, { path: '/blog', views: 1, people: 1 }],
      events: [],
    })
    expect(stage('consideration')).toEqual({ stage: 'consideration', pages: [{ path: '/pricing', views: 2, people: 1 }], events: [] })
    expect(stage('decision')).toEqual({
      stage: 'decision',
      pages: [{ path: '/thanks', views: 1, people: 1 }],
      events: [{ name: 'Demo Requested', count: 1, people: 1 }],
    })
    expect(stage('purchase')).toEqual({ stage: 'purchase', pages: [], events: [] })
  })

  it('counts what moved someone over several stages at once at the furthest of them', () => {
    // A deal won enters awareness to purchase at one moment.
    const { stage } = content(
      { 'person:p1': [['purchase', T0], ['awareness', T0], ['decision', T0], ['consideration', T0]] },
      [track(T0, 'Deal Won')],
    )
    expect(stage('purchase').events).toEqual([{ name: 'Deal Won', count: 1, people: 1 }])
    expect(stage('awareness').events).toEqual([])
  })

  it('finds the owner as the person when the event has a person, else as the anonymous visitor', () => {
    const { stage } = content(
      {
        'person:p1': [['awareness', T0]],
        // The visitor id p1 browses with, with a stage of its own that must not be used for p1's events.
        'visitor:v9': [['awareness', T0], ['consideration', T0]],
      },
      [
        pageview(T0 + HOUR, '/known', { personId: 'p1', visitorId: 'v9' }),
        pageview(T0 + HOUR, '/anonymous', { visitorId: 'v9' }),
      ],
    )
    expect(stage('awareness').pages).toEqual([{ path: '/known', views: 1, people: 1 }])
    expect(stage('consideration').pages).toEqual([{ path: '/anonymous', views: 1, people: 1 }])
  })

  it('ignores bots, other kinds of event, unnamed track events, events before any entry and owners without entries', () => {
    const { result } = content({ 'person:p1': [['awareness', T0]] }, [
      pageview(T0, '/counted'),
      pageview(T0, '/bot', { personId: 'p1' }, { isBot: true }),
      pageview(T0, '/identify', { personId: 'p1' }, { kind: 'identify', name: 'a@b.example' }),
      pageview(T0, '/form', { personId: 'p1' }, { kind: 'form_submit', name: 'demo' }),
      track(T0, null),
      pageview(T0 - 1, '/too-early'),
      pageview(T0, '/stranger', { personId: 'p2' }),
      pageview(T0, '/anonymous', { visitorId: 'v5' }),
    ])
    expect(result.flatMap((s) => s.pages.map((p) => `${s.stage} ${p.path}`))).toEqual(['awareness /counted'])
    expect(result.flatMap((s) => s.events)).toEqual([])
  })

  it('counts people as the distinct owners who saw a page or made an event, most seen first', () => {
    const { stage } = content(
      { 'person:p1': [['awareness', T0]], 'person:p2': [['awareness', T0]], 'visitor:v3': [['awareness', T0]] },
      [
        pageview(T0, '/pricing'), pageview(T0 + 1, '/pricing'), pageview(T0 + 2, '/pricing'),
        pageview(T0, '/pricing', { personId: 'p2' }),
        pageview(T0, '/pricing', { visitorId: 'v3' }),
        pageview(T0, '/about', { visitorId: 'v3' }),
        track(T0, 'Webinar'), track(T0 + 1, 'Webinar'),
        track(T0, 'Webinar', { personId: 'p2' }),
      ],
    )
    // /pricing: 3 + 1 + 1 views by p1, p2, v3.
    expect(stage('awareness').pages).toEqual([{ path: '/pricing', views: 5, people: 3 }, { path: '/about', views: 1, people: 1 }])
    expect(stage('awareness').events).toEqual([{ name: 'Webinar', count: 3, people: 2 }])
  })

  it('counts the same person again at each stage they saw a page in', () => {
    const { stage } = content({ 'person:p1': [['awareness', T0], ['consideration', T0 + DAY]] }, [
      pageview(T0, '/docs'), pageview(T0 + 2 * DAY, '/docs'),
    ])
    expect(stage('awareness').pages).toEqual([{ path: '/docs', views: 1, people: 1 }])
    expect(stage('consideration').pages).toEqual([{ path: '/docs', views: 1, people: 1 }])
  })

  it('keeps the 20 most seen pages of a stage', () => {
    // 25 pages /p00 … /p24; /p24 seen twice.
    const paths = Array.from({ length: 25 }, (_, i) => `/p${String(i).padStart(2, '0')}`)
    const { stage } = content({ 'person:p1': [['awareness', T0]] }, [...paths, '/p24'].map((path) => pageview(T0, path)))
    expect(stage('awareness').pages.map((p) => p.path)).toEqual(['/p24', ...paths.slice(0, 19)])
  })
})

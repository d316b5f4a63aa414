import { describe, expect, it } from 'vitest'
import { DEFAULT_JOURNEY, type Journey } from '../../../collector/stages/config'
import { companyProgress, matches, ownerProgress, requestsStage, sessionProgress } from '../../../collector/stages/progress'
import { sessionize } from '../../../collector/sessions/sessionize'
import type { StoredEvent } from '../../../collector/store/types'
import { entryRows, transitionsFromEntries } from '../../../collector/store/sqlite/journeys'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0)
let n = 0
function ev(at: number, over: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: `01J${String(n++).padStart(23, '0')}`, siteId: 's', visitorId: 'v', kind: 'pageview', name: null,
    occurredAt: T0 + at, receivedAt: T0 + at, url: 'https://a.example/', path: '/', title: null, referrer: null,
    utmSource: null, utmMedium: null, utmCampaign: null, utmTerm: null, utmContent: null, gclid: null, fbclid: null,
    msclkid: null, liFatId: null, screenWidth: null, language: null, timezone: null, browser: null, os: null,
    device: null, isBot: false, props: null, ...over,
  }
}
const view = (at: number, path: string, over: Partial<StoredEvent> = {}) => ev(at, { path, ...over })
const track = (at: number, name: string) => ev(at, { kind: 'track', name })

/** The owner's progress through a journey, from their events (all one visitor, in order). */
function progress(events: StoredEvent[], journey: Journey = DEFAULT_JOURNEY) {
  const sessions = sessionize(events).map(({ session, events }) => ({ ...session, progress: sessionProgress(journey, session, events) }))
  return ownerProgress(journey, sessions)
}
const stages = (events: StoredEvent[], journey?: Journey) => progress(events, journey).entries.map((e) => e.stage)

describe('Patterns', () => {
  it.each<[string | string[], string, boolean]>([
    ['/pricing**', '/pricing', true],
    ['/pricing**', '/pricing/enterprise', true],
    ['/blog/*', '/blog/post', true],
    ['/blog/*', '/blog/2026/post', false],
    ['/blog/**', '/blog/2026/post', true],
    ['*demo*', 'Request-Demo-Form', true],
    [['/a', '/b'], '/b', true],
    ['regex:^/(plans|pricing)$', '/plans', true],
    ['regex:^/(plans|pricing)$', '/plans/x', false],
  ])('%j matches %s: %s', (globs, value, expected) => {
    expect(matches(globs, value)).toBe(expected)
  })
})

describe('Requests a stage names', () => {
  it('are the form submits and named events of its rules, not a visit or an identify', () => {
    const asks = requestsStage(DEFAULT_JOURNEY.stages.find((s) => s.name === 'decision')!)
    expect(asks({ kind: 'form_submit', name: 'demo-request' })).toBe(true)
    expect(asks({ kind: 'form_submit', name: 'newsletter' })).toBe(false)
    expect(asks({ kind: 'contact_click', name: 'sales@acme.io' })).toBe(true)
    expect(asks({ kind: 'track', name: 'Demo Requested' })).toBe(true)
    expect(asks({ kind: 'identify', name: 'ada@acme.io' })).toBe(false)
    expect(asks({ kind: 'pageview', name: null })).toBe(false)
  })
})

describe('Engaged time in the stage rules', () => {
  // The default journey enters consideration after a minute engaged.
  it('counts the visible, active time the tag reported, not the gap between events', () => {
    // One long read: a single page view, 3 minutes of reading reported when it was left.
    expect(stages([view(0, '/blog/a', { engagedMs: 180_000 })])).toEqual(['awareness', 'consideration'])
    // Two views 61 s apart, read for 3 s each: the gap alone is not engagement.
    expect(stages([view(0, '/blog/a', { engagedMs: 3000 }), view(61_000, '/blog/b', { engagedMs: 3000 })])).toEqual(['awareness'])
    // Reached at the view that brings the sum to a minute.
    const moved = progress([view(0, '/blog/a', { engagedMs: 40_000 }), view(50_000, '/blog/b', { engagedMs: 25_000 })])
    expect(moved.entries.find((e) => e.stage === 'consideration')).toMatchObject({ at: T0 + 50_000, page: '/blog/b' })
  })

  it('falls back to the time between the first and the last event when the tag reported none', () => {
    expect(stages([view(0, '/blog/a'), view(61_000, '/blog/b')])).toEqual(['awareness', 'consideration'])
  })
})

describe('The default B2B journey', () => {
  it.each<[string, StoredEvent[], string[]]>([
    ['any visit is awareness', [view(0, '/blog/crm-basics')], ['awareness']],
    ['a pricing page is consideration', [view(0, '/'), view(5_000, '/pricing')], ['awareness', 'consideration']],
    ['a case study is consideration', [view(0, '/case-studies/acme')], ['awareness', 'consideration']],
    ['a download is consideration', [view(0, '/guides'), track(1_000, 'Guide Download')], ['awareness', 'consideration']],
    ['three pages are consideration', [view(0, '/a'), view(1_000, '/b'), view(2_000, '/c')], ['awareness', 'consideration']],
    ['a minute engaged is consideration', [view(0, '/a'), ev(61_000, { kind: 'form_field', name: 'newsletter' })], ['awareness', 'consideration']],
    ['two pages and 30 s are still awareness', [view(0, '/a'), view(30_000, '/b')], ['awareness']],
    ['coming back is consideration', [view(0, '/a'), view(2 * DAY, '/b')], ['awareness', 'consideration']],
    ['a started form is consideration', [view(0, '/contact'), ev(1_000, { kind: 'form_start', name: 'newsletter' })], ['awareness', 'consideration']],
    ['a demo form submitted is decision', [view(0, '/demo'), ev(9_000, { kind: 'form_submit', name: 'demo-request' })], ['awareness', 'consideration', 'decision']],
    ['an identify is decision', [view(0, '/'), ev(1_000, { kind: 'identify', name: 'a@b.example' })], ['awareness', 'consideration', 'decision']],
    ['a newsletter form alone is not decision', [view(0, '/'), ev(1_000, { kind: 'form_submit', name: 'newsletter' })], ['awareness']],
    ['a deal won is purchase', [view(0, '/'), track(DAY, 'Deal Won')], ['awareness', 'consideration', 'decision', 'purchase']],
    ['a customer lifecycle trait is purchase', [ev(0, { kind: 'identify', name: 'u1', props: { lifecycle: 'Customer' } })], ['awareness', 'consideration', 'decision', 'purchase']],
    // A page may send any JSON as a trait, even an object whose toString is not a function: it compares as its JSON.
    ['a trait sent as an object is no customer, and breaks nothing', [ev(0, { kind: 'identify', name: 'u1', props: { lifecycle: { toString: 'x' } } })], ['awareness', 'consideration', 'decision']],
    ['a renewal is loyalty', [track(0, 'Deal Won'), track(365 * DAY, 'Subscription Renewed')], ['awareness', 'consideration', 'decision', 'purchase', 'loyalty']],
    ['a referral is advocacy', [track(0, 'Referral Sent')], ['awareness', 'consideration', 'decision', 'purchase', 'loyalty', 'advocacy']],
  ])('%s', (_, events, expected) => {
    expect(stages(events)).toEqual(expected)
  })

  it('records when each stage was entered, and the session, channel, campaign and page that moved the person', () => {
    const events = [
      view(0, '/blog', { referrer: 'https://www.google.com/' }),
      view(3 * DAY, '/pricing', { utmSource: 'newsletter', utmMedium: 'email', utmCampaign: 'spring' }),
      view(3 * DAY + 60_000, '/demo'),
      ev(3 * DAY + 90_000, { kind: 'form_submit', name: 'demo', path: '/demo' }),
    ]
    const result = progress(events)
    expect(result.entries).toEqual([
      { stage: 'awareness', at: T0, sessionId: events[0].id, channel: 'Organic Search', campaign: null, page: '/blog' },
      // Coming back (returning) holds from the second session's first moment.
      { stage: 'consideration', at: T0 + 3 * DAY, sessionId: events[1].id, channel: 'Email', campaign: 'spring', page: '/pricing' },
      { stage: 'decision', at: T0 + 3 * DAY + 90_000, sessionId: events[1].id, channel: 'Email', campaign: 'spring', page: '/demo' },
    ])
    expect(result.transitions.map((t) => [t.from, t.to])).toEqual([[null, 'awareness'], ['awareness', 'consideration'], ['consideration', 'decision']])
    expect(result.sessions.map((s) => s.stage)).toEqual(['awareness', 'decision'])
    expect(result.stage).toBe('decision')
  })

  it('enters the stages a jump passes over at the same moment', () => {
    const result = progress([track(0, 'Deal Won')])
    expect(new Set(result.entries.map((e) => e.at))).toEqual(new Set([T0]))
    // The visit itself is awareness; the deal in the same moment passes over the two stages between.
    expect(result.transitions.map((t) => [t.from, t.to, t.at])).toEqual([[null, 'awareness', T0], ['awareness', 'purchase', T0]])
    expect(result.entries.map((e) => e.stage)).toEqual(['awareness', 'consideration', 'decision', 'purchase'])
    // As stored, each move sits on the entry it reached, and two moves in one moment read back in the journey's order.
    const rows = entryRows(result.entries, result.transitions)
    expect(rows.map((e) => [e.stage, e.moved, e.movedFrom])).toEqual([['awareness', 1, null], ['consideration', 0, null], ['decision', 0, null], ['purchase', 1, 'awareness']])
    expect(transitionsFromEntries(DEFAULT_JOURNEY, [...rows].reverse())).toEqual(result.transitions)
  })

  it('adds up the lead score across sessions, each rule once per session', () => {
    const result = progress([
      view(0, '/pricing'), view(1_000, '/pricing'), // +10 once
      view(2 * DAY, '/case-studies/acme'), track(2 * DAY + 1_000, 'Whitepaper Download'), // +10 +20
    ])
    expect(result.sessions.map((s) => s.score)).toEqual([10, 40])
    expect(result.score).toBe(40)
  })
})

describe('A configured journey', () => {
  const MQL: Journey = {
    name: 'mql',
    scope: { path: '/analytics/**' },
    stages: [
      { name: 'visitor', when: [{ visit: true }] },
      { name: 'engaged', when: [{ pageviews: 2, returning: true }] },
      { name: 'marketing-qualified', when: [{ score: 30 }] },
      { name: 'sales-qualified', when: [{ formSubmit: 'demo', score: 30 }] },
    ],
    score: [
      { when: { path: '/analytics/pricing' }, points: 15 },
      { when: { event: 'Webinar Registered' }, points: 20 },
    ],
  }

  it('needs every key of a condition (AND), any one condition (OR)', () => {
    expect(stages([view(0, '/analytics/a'), view(1_000, '/analytics/b')], MQL)).toEqual(['visitor'])
    expect(stages([view(0, '/analytics/a'), view(DAY, '/analytics/a'), view(DAY + 1_000, '/analytics/b')], MQL)).toEqual(['visitor', 'engaged'])
  })

  it('reaches a score threshold when the points add up, in the session and at the moment they do', () => {
    const events = [view(0, '/analytics/pricing'), view(DAY, '/analytics/pricing'), view(DAY + 5_000, '/analytics/x')]
    const result = progress(events, MQL)
    const mql = result.entries.find((e) => e.stage === 'marketing-qualified')!
    expect(mql.at).toBe(T0 + DAY)
    expect(result.score).toBe(30)
  })

  it('leaves sessions outside its scope out of it, but counts them for a return visit', () => {
    const result = progress([view(0, '/blog'), view(DAY, '/analytics/a'), view(DAY + 1_000, '/analytics/b')], MQL)
    expect(result.sessions).toHaveLength(1)
    expect(result.entries.map((e) => e.stage)).toEqual(['visitor', 'engaged'])
  })
})

describe('Companies', () => {
  it('enter each stage when the first of their people did', () => {
    const ada = progress([view(0, '/pricing')]).entries
    const bob = progress([view(-DAY, '/'), ev(-DAY + 1_000, { kind: 'identify', name: 'bob@x.example' })]).entries
    const company = companyProgress(DEFAULT_JOURNEY, [ada, bob])
    expect(company.entries.map((e) => [e.stage, e.at])).toEqual([
      ['awareness', T0 - DAY],
      ['consideration', T0 - DAY + 1_000],
      ['decision', T0 - DAY + 1_000],
    ])
    expect(company.stage).toBe('decision')
  })
})

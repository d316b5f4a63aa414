import { describe, expect, it } from 'vitest'
import { timeline } from '../../../collector/reports/timeline'
import type { EventRecord, SessionRecord } from '../../../collector/store/types'

const T0 = Date.UTC(2026, 8, 1, 9)

function session(id: string, startedAt: number): SessionRecord {
  return {
    id, siteId: 's', visitorId: 'v1', startedAt, endedAt: startedAt + 60_000, pageviews: 2, events: 3, conversions: 0,
    entryUrl: 'https://a.example/pricing?utm_campaign=spring', entryPath: '/pricing', exitPath: '/demo', referrer: null,
    source: 'newsletter', medium: 'email', campaign: 'spring', term: null, content: null, gclid: null, fbclid: null,
    msclkid: null, liFatId: null, channel: 'Email', browser: null, os: null, device: null, engagedMs: 60_000, engaged: true,
    arrivalKey: 'newsletter|email|spring||', durationMs: 60_000, personId: 'p1', companyId: null, stages: { b2b: 'decision' },
  }
}

function event(id: string, occurredAt: number, over: Partial<EventRecord> = {}): EventRecord {
  return {
    id, siteId: 's', visitorId: 'v1', kind: 'pageview', name: null, occurredAt, receivedAt: occurredAt,
    url: 'https://a.example/pricing', path: '/pricing', title: 'Pricing', referrer: null, utmSource: null, utmMedium: null,
    utmCampaign: null, utmTerm: null, utmContent: null, gclid: null, fbclid: null, msclkid: null, liFatId: null,
    screenWidth: null, language: null, timezone: null, browser: null, os: null, device: null, isBot: false, props: null,
    personId: 'p1', sessionId: 'S1', ...over,
  }
}

const stage = (at: number, from: string | null, to: string) => ({ journey: 'b2b', from, to, at, sessionId: 'S1' })

describe('A timeline', () => {
  it('is empty when nothing happened', () => {
    expect(timeline([], [], [])).toEqual([])
  })

  it('shows a session by its start, with where it came from', () => {
    expect(timeline([session('S1', T0)], [], [])).toEqual([
      {
        type: 'session', at: T0, sessionId: 'S1', personId: 'p1', visitorId: 'v1', endedAt: T0 + 60_000,
        channel: 'Email', source: 'newsletter', medium: 'email', campaign: 'spring', entryPath: '/pricing', pageviews: 2, events: 3,
      },
    ])
  })

  it('shows an event at the time it occurred, with its properties', () => {
    const e = event('E1', T0 + 5_000, { kind: 'track', name: 'Demo Requested', props: { plan: 'team' } })
    expect(timeline([], [e], [])).toEqual([
      {
        type: 'event', at: T0 + 5_000, eventId: 'E1', sessionId: 'S1', personId: 'p1', kind: 'track', name: 'Demo Requested',
        path: '/pricing', title: 'Pricing', properties: { plan: 'team' },
      },
    ])
  })

  it('shows a stage change with its journey and the stages it went from and to', () => {
    expect(timeline([], [], [stage(T0, 'consideration', 'decision')])).toEqual([
      { type: 'stage', at: T0, journey: 'b2b', from: 'consideration', to: 'decision', sessionId: 'S1' },
    ])
  })

  it('puts everything in order of time, whatever the order given', () => {
    const items = timeline(
      [session('S2', T0 + 3_000), session('S1', T0)],
      [event('E2', T0 + 4_000), event('E1', T0 + 1_000)],
      [stage(T0 + 2_000, null, 'awareness')],
    )
    expect(items.map((i) => [i.type, i.at - T0])).toEqual([
      ['session', 0], ['event', 1_000], ['stage', 2_000], ['session', 3_000], ['event', 4_000],
    ])
  })

  it('at the same moment puts the session first, then the event, then the stage change it caused', () => {
    const items = timeline([session('S1', T0)], [event('E1', T0)], [stage(T0, null, 'awareness')])
    expect(items.map((i) => i.type)).toEqual(['session', 'event', 'stage'])
  })

  it('keeps a moment’s session, event and stage change together, between what came before and after', () => {
    const items = timeline(
      [session('S0', T0 - 1), session('S1', T0)],
      [event('E1', T0), event('E2', T0 + 1)],
      [stage(T0 - 1, null, 'awareness'), stage(T0, 'awareness', 'consideration')],
    )
    // T0 − 1: session S0, then its stage change; T0: S1, E1, the change; T0 + 1: E2.
    expect(items.map((i) => (i.type === 'session' ? i.sessionId : i.type === 'event' ? i.eventId : i.to))).toEqual([
      'S0', 'awareness', 'S1', 'E1', 'consideration', 'E2',
    ])
  })
})

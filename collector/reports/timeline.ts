import type { StageTransition } from '../stages/progress'
import type { EventRecord, SessionRecord } from '../store/types'

export type TimelineItem =
  | {
      type: 'session'
      at: number
      sessionId: string
      personId: string | null
      visitorId: string
      endedAt: number
      channel: string
      source: string
      medium: string
      campaign: string | null
      entryPath: string
      pageviews: number
      events: number
    }
  | {
      type: 'event'
      at: number
      eventId: string
      sessionId: string | null
      personId: string | null
      kind: string
      name: string | null
      path: string
      title: string | null
      properties: Record<string, unknown> | null
    }
  | { type: 'stage'; at: number; journey: string; from: string | null; to: string; sessionId: string }

/** At the same moment a session opens first, and a stage change follows the event that caused it. */
const ORDER = { session: 0, event: 1, stage: 2 }

/** Everything that happened to one person or company, in order. */
export function timeline(
  sessions: SessionRecord[],
  events: EventRecord[],
  transitions: (StageTransition & { journey: string })[],
): TimelineItem[] {
  const items: TimelineItem[] = [
    ...sessions.map((s): TimelineItem => ({
      type: 'session', at: s.startedAt, sessionId: s.id, personId: s.personId, visitorId: s.visitorId, endedAt: s.endedAt,
      channel: s.channel, source: s.source, medium: s.medium, campaign: s.campaign, entryPath: s.entryPath,
      pageviews: s.pageviews, events: s.events,
    })),
    ...events.map((e): TimelineItem => ({
      type: 'event', at: e.occurredAt, eventId: e.id, sessionId: e.sessionId, personId: e.personId, kind: e.kind,
      name: e.name, path: e.path, title: e.title, properties: e.props,
    })),
    ...transitions.map((t): TimelineItem => ({ type: 'stage', at: t.at, journey: t.journey, from: t.from, to: t.to, sessionId: t.sessionId })),
  ]
  return items.sort((a, b) => a.at - b.at || ORDER[a.type] - ORDER[b.type])
}

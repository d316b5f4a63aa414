import type { StoredEvent } from '../store/types'
import { attribute, type Attribution, type Channel } from './channel'

/** A session ends after this long without activity. */
export const SESSION_TIMEOUT_MS = 30 * 60 * 1000
/** Visible time that makes a session engaged. */
export const ENGAGED_MS = 10_000

/** One visit: consecutive events of one visitor, with what they add up to. */
export interface Session {
  /** The id of the session's first event, so the same events always make the same session. */
  id: string
  siteId: string
  visitorId: string
  startedAt: number
  endedAt: number
  pageviews: number
  events: number
  /** Form submits and identifies. */
  conversions: number
  entryUrl: string
  entryPath: string
  exitPath: string
  referrer: string | null
  source: string
  medium: string
  campaign: string | null
  term: string | null
  content: string | null
  gclid: string | null
  fbclid: string | null
  msclkid: string | null
  liFatId: string | null
  channel: Channel
  browser: string | null
  os: string | null
  device: string | null
  /**
   * The visible, active time the tag reported for the session's page views, added up; for a
   * session with no such report (a server's events, an older tag, a view not yet left), the time
   * between its first and last event, as classic web analytics measured it.
   */
  engagedMs: number
  /** At least 10 s engaged, 2+ page views, or a conversion; a session that is not engaged is a bounce. */
  engaged: boolean
  /** What the visit arrived with (campaign, click id, referring site), to tell a new arrival from a move within the site. */
  arrivalKey: string
}

/** What a page view arrived with; undefined for a move within the site, which arrives with nothing. */
export function arrivalKey(event: StoredEvent): string | undefined {
  if (event.kind !== 'pageview') return
  const clickId = event.gclid ?? event.msclkid ?? event.liFatId ?? event.fbclid
  let referrerHost = ''
  if (event.referrer)
    try {
      referrerHost = new URL(event.referrer).hostname.replace(/^www\./, '')
    } catch {}
  if (!event.utmSource && !event.utmMedium && !event.utmCampaign && !clickId && !referrerHost) return
  return [event.utmSource, event.utmMedium, event.utmCampaign, clickId, referrerHost].map((part) => part ?? '').join('|')
}

const OFFLINE: Attribution = { source: '(server)', medium: '(none)', channel: 'Offline' }

const isConversion = (event: StoredEvent) => event.kind === 'form_submit' || event.kind === 'identify'

/** A session begun by this event. */
export function startSession(event: StoredEvent): Session {
  // Server-side events come with no page: they touch the journey, but arrive from no channel.
  const { source, medium, channel } = event.url ? attribute(event) : OFFLINE
  return addEvent(
    {
      id: event.id,
      siteId: event.siteId,
      visitorId: event.visitorId,
      startedAt: event.occurredAt,
      endedAt: event.occurredAt,
      pageviews: 0,
      events: 0,
      conversions: 0,
      entryUrl: event.url,
      entryPath: event.path,
      exitPath: event.path,
      referrer: event.referrer,
      source,
      medium,
      campaign: event.utmCampaign,
      term: event.utmTerm,
      content: event.utmContent,
      gclid: event.gclid,
      fbclid: event.fbclid,
      msclkid: event.msclkid,
      liFatId: event.liFatId,
      channel,
      browser: event.browser,
      os: event.os,
      device: event.device,
      engagedMs: 0,
      engaged: false,
      arrivalKey: arrivalKey(event) ?? '',
    },
    event,
    event.engagedMs ?? undefined,
  )
}

/**
 * Whether an event (the next in time) belongs to the session: it must come within the timeout of
 * the session's last event, and not arrive anew from another campaign, click or referring site.
 * Midnight does not end a session: a visit that spans it is one visit.
 */
export function continuesSession(session: Session, event: StoredEvent, timeoutMs = SESSION_TIMEOUT_MS): boolean {
  if (event.occurredAt - session.endedAt > timeoutMs) return false
  const arrival = arrivalKey(event)
  return arrival === undefined || arrival === session.arrivalKey
}

/**
 * Adds one more event (the next in time) to a session being made, in place: a copy of the
 * session for each event was an eighth of a rebuild's time in JavaScript. `reportedMs` is the
 * engaged time the tag reported for its page views so far, undefined while none has been.
 */
function addEvent(session: Session, event: StoredEvent, reportedMs?: number): Session {
  if (event.kind === 'pageview') {
    session.pageviews++
    session.exitPath = event.path
  }
  if (isConversion(event)) session.conversions++
  session.events++
  session.endedAt = event.occurredAt
  session.engagedMs = reportedMs ?? event.occurredAt - session.startedAt
  session.engaged = session.engagedMs >= ENGAGED_MS || session.pageviews >= 2 || session.conversions > 0
  return session
}

export interface SessionWithEvents {
  session: Session
  events: StoredEvent[]
}

/** The sessions of one visitor's events, given in order of occurrence (then id). */
export function sessionize(events: StoredEvent[], timeoutMs = SESSION_TIMEOUT_MS): SessionWithEvents[] {
  const sessions: SessionWithEvents[] = []
  let current: SessionWithEvents | undefined
  let reportedMs: number | undefined
  for (const event of events) {
    const reported = event.engagedMs ?? undefined
    if (current && continuesSession(current.session, event, timeoutMs)) {
      if (reported !== undefined) reportedMs = (reportedMs ?? 0) + reported
      addEvent(current.session, event, reportedMs)
      current.events.push(event)
    } else {
      reportedMs = reported
      current = { session: startSession(event), events: [event] }
      sessions.push(current)
    }
  }
  return sessions
}

/** The order events are folded in: time, then id, so ties break the same way everywhere. */
export const byOccurrence = (a: StoredEvent, b: StoredEvent) =>
  a.occurredAt - b.occurredAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

import type { Journey } from '../stages/config'
import type { EventRecord, StageMove } from '../store/types'
import { ownerOf, stageLookup, type OwnerStageEntries } from './content'
import { DAY_MS, rate, withinRange } from './stats'

/** A click led somewhere when a form submit or a stage move of its owner followed it within this long (inclusive). */
export const WENT_ON_WINDOW_MS = 7 * DAY_MS
/** Clicks whose channel is looked up in sessions that started at most this long before the range (a session spans midnight). */
export const SESSION_LOOKBACK_MS = DAY_MS
/** The clicks the report counts: tagged calls to action, mailto:/tel: links and links off the site. */
export const CLICK_KINDS = ['cta', 'contact_click', 'outbound_click'] as const
/** The channel of a click whose session is not found. */
export const UNKNOWN_CHANNEL = 'Unknown'

/** One row of a breakdown: a channel, or the stage owners were in (null: before any stage of the journey). */
export interface ClickBreakdown<Key = string> {
  key: Key
  clicks: number
  /** Distinct owners who clicked in this channel (or at this stage). */
  people: number
  /** Of those, owners whose click in this channel (at this stage) was followed within 7 days by a form submit or a stage move. */
  wentOn: number
}

/** What the CTA report says of one call to action, contact address or outbound link, over the clicks in the range. */
export interface ClickItem {
  /** The CTA's name, the email address or phone number, or the destination URL. */
  name: string
  clicks: number
  /** Distinct owners (known people and anonymous visitors) who clicked. */
  people: number
  /** Owners who submitted a form at or after one of their clicks, within 7 days of it. */
  submittedForm: number
  /** Owners who moved to a stage of the journey at or after one of their clicks, within 7 days (the click itself may have moved them). */
  advanced: number
  /** Owners who did either. */
  wentOn: number
  /** wentOn ÷ people. */
  wentOnShare: number | null
  /** By the channel of the session the click was in, most clicks first. */
  byChannel: ClickBreakdown[]
  /** By the owner's stage at the click, in the journey's order; clicks before any stage last. */
  byStage: ClickBreakdown<string | null>[]
}

export interface ContactItem extends ClickItem {
  kind: 'email' | 'phone'
}

export interface ClickTotals {
  /** Distinct CTAs, contact addresses and outbound links clicked in the range (before the limit). */
  ctas: number
  contacts: number
  outbound: number
  /** All their clicks, and the distinct owners who made them. */
  clicks: number
  people: number
}

export interface Clicks {
  ctas: ClickItem[]
  contacts: ContactItem[]
  outbound: ClickItem[]
  totals: ClickTotals
}

export interface ClickOptions {
  from?: number
  to?: number
  /** At most this many items of each list. */
  limit: number
}

export type ClickEvent = Pick<EventRecord, 'kind' | 'name' | 'props' | 'occurredAt' | 'personId' | 'visitorId' | 'sessionId' | 'isBot'>

type ClickKind = (typeof CLICK_KINDS)[number]
export const isClick = (kind: string): kind is ClickKind => (CLICK_KINDS as readonly string[]).includes(kind)

interface Click {
  kind: ClickKind
  name: string
  owner: string
  at: number
  sessionId: string | null
  stage: string | null
}

/**
 * Clicks on calls to action, contact links and outbound links, and whether the people who
 * clicked went on to submit a form or move through the journey within 7 days. Feed it the
 * events (clicks in the range, form submits to 7 days past it, in any order), then the
 * sessions (only those a click was in are kept, so the clicks must come first), and the
 * journey's transitions to 7 days past the range.
 */
export function ctasFold(journey: Journey, entries: Map<string, OwnerStageEntries>, options: ClickOptions) {
  const stageAt = stageLookup(journey, entries)
  const inRange = withinRange(options)
  const clicks: Click[] = []
  const contactKinds = new Map<string, 'email' | 'phone'>()
  const clickSessions = new Set<string>()
  const channels = new Map<string, string>()
  const formSubmits = new Map<string, number[]>()
  const stageMoves = new Map<string, number[]>()
  const remember = (times: Map<string, number[]>, owner: string, at: number) => {
    const list = times.get(owner)
    if (list) list.push(at)
    else times.set(owner, [at])
  }

  return {
    add(event: ClickEvent) {
      if (event.isBot) return
      if (event.kind === 'form_submit') return remember(formSubmits, ownerOf(event), event.occurredAt)
      if (!isClick(event.kind) || !event.name || !inRange(event.occurredAt)) return
      const owner = ownerOf(event)
      clicks.push({ kind: event.kind, name: event.name, owner, at: event.occurredAt, sessionId: event.sessionId, stage: stageAt(owner, event.occurredAt) })
      if (event.sessionId) clickSessions.add(event.sessionId)
      if (event.kind === 'contact_click' && !contactKinds.has(event.name))
        // The tag says which; an address stored without it is told by its @.
        contactKinds.set(event.name, event.props?.kind === 'phone' || event.props?.kind === 'email' ? event.props.kind : event.name.includes('@') ? 'email' : 'phone')
    },

    addSession(session: { id: string; channel: string }) {
      if (clickSessions.has(session.id)) channels.set(session.id, session.channel)
    },

    /** A move of the journey's to a further stage. */
    addTransition(transition: StageMove) {
      if (transition.ownerType === 'company') return
      remember(stageMoves, `${transition.ownerType}:${transition.ownerId}`, transition.at)
    },

    result(): Clicks {
      const followedBy = (times: number[] | undefined, at: number) => times?.some((t) => t >= at && t <= at + WENT_ON_WINDOW_MS) ?? false
      const blankRow = () => ({ clicks: 0, people: new Set<string>(), wentOn: new Set<string>() })
      const blank = () => ({ ...blankRow(), submittedForm: new Set<string>(), advanced: new Set<string>(), byChannel: new Map<string, ReturnType<typeof blankRow>>(), byStage: new Map<string | null, ReturnType<typeof blankRow>>() })
      const count = <Key>(rows: Map<Key, ReturnType<typeof blankRow>>, key: Key, owner: string, wentOn: boolean) => {
        let row = rows.get(key)
        if (!row) rows.set(key, (row = blankRow()))
        row.clicks++
        row.people.add(owner)
        if (wentOn) row.wentOn.add(owner)
      }

      const items = new Map<ClickKind, Map<string, ReturnType<typeof blank>>>(CLICK_KINDS.map((kind) => [kind, new Map()]))
      for (const click of clicks) {
        const byName = items.get(click.kind)!
        let item = byName.get(click.name)
        if (!item) byName.set(click.name, (item = blank()))
        const submitted = followedBy(formSubmits.get(click.owner), click.at)
        const advanced = followedBy(stageMoves.get(click.owner), click.at)
        item.clicks++
        item.people.add(click.owner)
        if (submitted) item.submittedForm.add(click.owner)
        if (advanced) item.advanced.add(click.owner)
        if (submitted || advanced) item.wentOn.add(click.owner)
        count(item.byChannel, (click.sessionId && channels.get(click.sessionId)) || UNKNOWN_CHANNEL, click.owner, submitted || advanced)
        count(item.byStage, click.stage, click.owner, submitted || advanced)
      }

      const stageOrder = new Map<string | null, number>(journey.stages.map((s, i) => [s.name, i]))
      const rows = <Key>(tallies: Map<Key, ReturnType<typeof blankRow>>): ClickBreakdown<Key>[] =>
        [...tallies].map(([key, row]) => ({ key, clicks: row.clicks, people: row.people.size, wentOn: row.wentOn.size }))
      const list = (kind: ClickKind): ClickItem[] =>
        [...items.get(kind)!]
          .map(([name, t]) => ({
            name,
            clicks: t.clicks,
            people: t.people.size,
            submittedForm: t.submittedForm.size,
            advanced: t.advanced.size,
            wentOn: t.wentOn.size,
            wentOnShare: rate(t.wentOn.size, t.people.size),
            byChannel: rows(t.byChannel).sort((a, b) => b.clicks - a.clicks || a.key.localeCompare(b.key)),
            byStage: rows(t.byStage).sort((a, b) => (stageOrder.get(a.key) ?? Infinity) - (stageOrder.get(b.key) ?? Infinity)),
          }))
          .sort((a, b) => b.people - a.people || b.clicks - a.clicks || a.name.localeCompare(b.name))

      const ctas = list('cta')
      const contacts = list('contact_click').map(({ name, ...item }): ContactItem => ({ name, kind: contactKinds.get(name)!, ...item }))
      const outbound = list('outbound_click')
      return {
        ctas: ctas.slice(0, options.limit),
        contacts: contacts.slice(0, options.limit),
        outbound: outbound.slice(0, options.limit),
        totals: { ctas: ctas.length, contacts: contacts.length, outbound: outbound.length, clicks: clicks.length, people: new Set(clicks.map((c) => c.owner)).size },
      }
    },
  }
}

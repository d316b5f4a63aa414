/**
 * What alerts say. Bodies are made when an alert is queued and sent unchanged on every attempt,
 * so a retry tells the receiver exactly what the first attempt did.
 */

type Traits = Record<string, unknown>

export interface PersonFacts {
  id: string
  email: string | null
  userId: string | null
  traits: Traits
  company: CompanyFacts | null
}

export interface CompanyFacts {
  id: string
  domain: string | null
  groupId: string | null
  traits: Traits
}

/** The session that moved the owner into the stage, and the page it happened on. */
export interface AlertTouch {
  sessionId: string
  channel: string | null
  campaign: string | null
  page: string | null
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null)

/** A person's name as the identify traits give it: `name`, else first and last name. */
const personName = (traits: Traits) => text(traits.name) ?? text([text(traits.firstName), text(traits.lastName)].filter(Boolean).join(' '))

const companySummary = (c: CompanyFacts) => ({ id: c.id, domain: c.domain, groupId: c.groupId, name: text(c.traits.name) })
const personSummary = (p: PersonFacts) => ({ id: p.id, email: p.email, userId: p.userId, name: personName(p.traits) })

export interface StageEntered {
  id: string
  siteId: string
  journey: string
  stage: string
  from: string | null
  at: number
  touch: AlertTouch
  /** The person's lead score; null for a company. */
  score: number | null
  owner: { type: 'person'; person: PersonFacts } | { type: 'company'; company: CompanyFacts; movedBy: PersonFacts | null }
}

/** `stage.entered`: a person or company entered a stage. README: "Stage alerts (webhooks)". */
export function stageEnteredBody(alert: StageEntered): string {
  const { owner } = alert
  return JSON.stringify({
    type: 'stage.entered',
    id: alert.id,
    site: alert.siteId,
    journey: alert.journey,
    stage: alert.stage,
    from: alert.from,
    at: new Date(alert.at).toISOString(),
    owner:
      owner.type === 'person'
        ? {
            type: 'person',
            ...personSummary(owner.person),
            traits: owner.person.traits,
            company: owner.person.company && companySummary(owner.person.company),
          }
        : { type: 'company', ...companySummary(owner.company), traits: owner.company.traits, movedBy: owner.movedBy && personSummary(owner.movedBy) },
    touch: alert.touch,
    score: alert.score,
  })
}

export interface StalledPerson {
  person: PersonFacts
  stage: string
  enteredAt: number
  days: number
  lastSeen: number | null
}

export interface StalledList {
  id: string
  siteId: string
  journey: string
  /** The UTC day the list is for (YYYY-MM-DD). */
  day: string
  asOf: number
  stalledDays: number
  /** Everyone stalled; `people` may list fewer (the longest stalled first). */
  total: number
  people: StalledPerson[]
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** `stalled.daily`: the known people stalled in a journey, as the funnel report lists them. */
export function stalledBody(list: StalledList): string {
  return JSON.stringify({
    type: 'stalled.daily',
    id: list.id,
    site: list.siteId,
    journey: list.journey,
    day: list.day,
    asOf: iso(list.asOf),
    stalledDays: list.stalledDays,
    total: list.total,
    people: list.people.map((p) => ({
      ...personSummary(p.person),
      company: p.person.company && companySummary(p.person.company),
      stage: p.stage,
      enteredAt: iso(p.enteredAt),
      days: p.days,
      lastSeen: iso(p.lastSeen),
    })),
  })
}

/** How a person is named in a body: the fields an erasure looks for. */
export interface NamedPerson {
  id: string
  email: string | null
  userId: string | null
}

/**
 * A queued body with an erased person taken out: null when the alert is about them (it goes),
 * else the body without them (a company's mover, a line of a stalled list), or unchanged.
 */
export function withoutPerson(body: string, isThem: (person: NamedPerson) => boolean): string | null {
  const alert = JSON.parse(body)
  if (alert.type === 'stage.entered') {
    if (alert.owner.type === 'person') return isThem(alert.owner) ? null : body
    if (!alert.owner.movedBy || !isThem(alert.owner.movedBy)) return body
    alert.owner.movedBy = null
  } else if (alert.type === 'stalled.daily') {
    const people = alert.people.filter((p: NamedPerson) => !isThem(p))
    if (people.length === alert.people.length) return body
    alert.total -= alert.people.length - people.length
    alert.people = people
  }
  return JSON.stringify(alert)
}

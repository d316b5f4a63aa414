import { createHash } from 'node:crypto'
import { businessDomain, normalizeEmail } from './free-mail'
import { planIdentify } from './plan'
import type { Company, IdentityGraph, Person, Traits } from './types'

export interface IdentityEvent {
  id: string
  siteId: string
  visitorId: string
  /** identify: the user id or email; group: the account id. */
  subject: string
  traits: Traits
  at: number
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * An id made from what names the record (a person's user id or email, a company's account id or
 * domain), in a ULID's alphabet and length. The same events make the same ids whatever order
 * they arrive in: on SQLite, in ClickHouse's processor, and on every rebuild.
 */
export function stableId(...names: string[]): string {
  const digest = createHash('sha256').update(names.join('\u0000')).digest()
  let id = ''
  for (let i = 0; i < 26; i++) id += CROCKFORD[digest[i] % 32]
  return id
}

/** An identify: find or make the person, merge what it proves, link the visitor, set traits and company. */
export function applyIdentify(graph: IdentityGraph, event: IdentityEvent): void {
  const { siteId, visitorId, subject, traits, at } = event
  const subjectEmail = normalizeEmail(subject)
  const keys = { userId: subjectEmail ? undefined : subject, email: subjectEmail ?? normalizeEmail(traits.email) }
  const plan = planIdentify(keys, {
    byUserId: keys.userId ? graph.personByUserId(siteId, keys.userId) : undefined,
    byEmail: keys.email ? graph.personByEmail(siteId, keys.email) : undefined,
    ofVisitor: graph.personOfVisitor(siteId, visitorId),
  })

  let person: Person = plan.target ?? {
    id: stableId(siteId, 'person', keys.userId ?? keys.email ?? subject),
    siteId,
    userId: null,
    email: null,
    companyId: null,
    companySource: null,
    createdAt: at,
  }
  if (plan.merge) person = mergeInto(graph, person, plan.merge)
  person = {
    ...person,
    userId: person.userId ?? plan.setUserId ?? null,
    email: plan.setEmail ?? person.email,
    // The earliest identify, whichever arrived first.
    createdAt: Math.min(person.createdAt, at),
  }
  graph.savePerson(person)
  graph.setTraits(person.id, traits, at)

  if (plan.link) {
    const newlyLinked = graph.personOfVisitor(siteId, visitorId)?.id !== person.id
    graph.link(siteId, visitorId, person.id, at)
    // A group call the visitor made while still anonymous applies now that we know who they are.
    const earlierGroup = newlyLinked ? graph.latestGroupOfVisitor(siteId, visitorId) : undefined
    if (earlierGroup && person.companySource !== 'group')
      person = joinCompany(graph, person, groupCompany(graph, siteId, earlierGroup.groupId, earlierGroup.traits, earlierGroup.at), 'group')
  }
  if (plan.conflictWith)
    graph.recordConflict({ siteId, visitorId, keptPersonId: plan.conflictWith.id, refusedPersonId: person.id, eventId: event.id, at })

  const domain = businessDomain(person.email)
  if (domain && person.companySource !== 'group' && !person.companyId)
    joinCompany(graph, person, domainCompany(graph, siteId, domain, at), 'email')
  else if (domain && person.companySource === 'email') {
    // An identify that arrived late but happened first: the company is known since then.
    const company = graph.companyByDomain(siteId, domain)
    if (company?.id === person.companyId && at < company.createdAt) graph.saveCompany({ ...company, createdAt: at })
  }
}

/** A group call: the company by account id, its traits, and the visitor's person joins it. */
export function applyGroup(graph: IdentityGraph, event: IdentityEvent): void {
  const company = groupCompany(graph, event.siteId, event.subject, event.traits, event.at)
  const person = graph.personOfVisitor(event.siteId, event.visitorId)
  if (person) joinCompany(graph, person, company, 'group')
}

/**
 * An alias: `previousId` and `userId` name one person. A previous user id's person takes the new
 * user id, or folds into the person who already has it; any other previous id is an anonymous
 * id, which becomes the user's as an identify would make it.
 */
export function applyAlias(graph: IdentityGraph, event: { id: string; siteId: string; previousId: string; userId: string; at: number }): void {
  const { siteId, previousId, userId, at } = event
  const previous = graph.personByUserId(siteId, previousId)
  if (!previous) return applyIdentify(graph, { id: event.id, siteId, visitorId: previousId, subject: userId, traits: {}, at })
  const current = graph.personByUserId(siteId, userId)
  if (current?.id === previous.id) return
  // The previous user id is replaced, not kept beside the new one: a person has one user id.
  if (!current) return graph.savePerson({ ...previous, userId })
  graph.savePerson(mergeInto(graph, current, { ...previous, userId: null }))
}

function mergeInto(graph: IdentityGraph, target: Person, other: Person): Person {
  graph.relink(other.id, target.id)
  graph.renamePerson(other.id, target.id)
  graph.moveTraits(other.id, target.id)
  // The other record goes first: its keys are unique and pass to the target.
  graph.deletePerson(other.id)
  const keepGroupCompany = target.companySource === 'group' || other.companySource !== 'group'
  return {
    ...target,
    userId: target.userId ?? other.userId,
    email: target.email ?? other.email,
    companyId: keepGroupCompany ? (target.companyId ?? other.companyId) : other.companyId,
    companySource: keepGroupCompany ? (target.companySource ?? other.companySource) : other.companySource,
    createdAt: Math.min(target.createdAt, other.createdAt),
  }
}

function joinCompany(graph: IdentityGraph, person: Person, company: Company, source: 'group' | 'email'): Person {
  const joined = { ...person, companyId: company.id, companySource: source }
  graph.savePerson(joined)
  return joined
}

const domainOf = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || !value.trim()) return
  try {
    return new URL(/^https?:\/\//i.test(value) ? value : `https://${value.trim()}`).hostname.replace(/^www\./, '')
  } catch {
    return
  }
}

function groupCompany(graph: IdentityGraph, siteId: string, groupId: string, traits: Traits, at: number): Company {
  let company = graph.companyByGroupId(siteId, groupId)
  if (!company) {
    // A company first known from its people's email domain takes the account id when the group call names that domain.
    const domain = domainOf(traits.domain) ?? domainOf(traits.website)
    const byDomain = domain ? graph.companyByDomain(siteId, domain) : undefined
    company =
      byDomain && !byDomain.groupId
        ? { ...byDomain, groupId }
        : { id: stableId(siteId, 'group', groupId), siteId, groupId, domain: domain && !byDomain ? domain : null, createdAt: at }
    graph.saveCompany(company)
  } else if (at < company.createdAt) {
    company = { ...company, createdAt: at }
    graph.saveCompany(company)
  }
  graph.setTraits(company.id, traits, at)
  return company
}

function domainCompany(graph: IdentityGraph, siteId: string, domain: string, at: number): Company {
  const existing = graph.companyByDomain(siteId, domain)
  // Known since the earliest identify naming it, whichever arrived first.
  if (existing && at < existing.createdAt) graph.saveCompany({ ...existing, createdAt: at })
  if (existing) return { ...existing, createdAt: Math.min(existing.createdAt, at) }
  const company: Company = { id: stableId(siteId, 'domain', domain), siteId, groupId: null, domain, createdAt: at }
  graph.saveCompany(company)
  return company
}

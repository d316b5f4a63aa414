/** A known person: one or more anonymous visitor ids, an optional user id and email, traits and a company. */
export interface Person {
  id: string
  siteId: string
  userId: string | null
  email: string | null
  companyId: string | null
  /** How the company was set: by a group call (which email domains never override) or from the email's domain. */
  companySource: 'group' | 'email' | null
  createdAt: number
}

/** A company (account): from a group call's account id, or from a business email domain. */
export interface Company {
  id: string
  siteId: string
  groupId: string | null
  domain: string | null
  createdAt: number
}

export type Traits = Record<string, unknown>

/**
 * The identity graph as the identity rules see it. Synchronous on purpose: an engine runs these
 * inside the same transaction that stores the identify or group event, so the graph and the
 * events never disagree.
 */
export interface IdentityGraph {
  personById(id: string): Person | undefined
  personByUserId(siteId: string, userId: string): Person | undefined
  personByEmail(siteId: string, email: string): Person | undefined
  personOfVisitor(siteId: string, visitorId: string): Person | undefined
  savePerson(person: Person): void
  deletePerson(id: string): void
  link(siteId: string, visitorId: string, personId: string, at: number): void
  /** Moves every visitor id of one person to another (a merge). */
  relink(fromPersonId: string, toPersonId: string): void
  /** Points what names a merged-away person (recorded conflicts) at the person it became. */
  renamePerson(fromPersonId: string, toPersonId: string): void
  /** Sets traits of a person or company; for each key the value set latest wins. */
  setTraits(subjectId: string, traits: Traits, at: number): void
  /** Folds one subject's traits into another's, latest value winning, and drops the first's. */
  moveTraits(fromId: string, toId: string): void
  companyById(id: string): Company | undefined
  companyByGroupId(siteId: string, groupId: string): Company | undefined
  companyByDomain(siteId: string, domain: string): Company | undefined
  saveCompany(company: Company): void
  /** The latest group call an anonymous visitor made, to apply once it becomes a person. */
  latestGroupOfVisitor(siteId: string, visitorId: string): { groupId: string; traits: Traits; at: number } | undefined
  /** An identify that would have moved an identified visitor id to another person, refused. */
  recordConflict(conflict: { siteId: string; visitorId: string; keptPersonId: string; refusedPersonId: string; eventId: string; at: number }): void
}

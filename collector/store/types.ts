import type { EventKind, Properties } from '../../shared/wire'
import type { Company, Person } from '../identity/types'

/** A site that may send events: its public id goes in the tag; its keys are kept only as hashes. */
export interface Site {
  id: string
  domain: string
  writeKeyHash: string
  readTokenHash: string
  createdAt: number
}

/** An event as stored: the wire event, checked, with what the collector derived on arrival. */
export interface StoredEvent {
  id: string
  siteId: string
  visitorId: string
  kind: EventKind
  name: string | null
  /** When it happened: the browser's time, corrected for the browser's clock skew (ms since the epoch). */
  occurredAt: number
  /** When the collector received it (ms since the epoch). */
  receivedAt: number
  url: string
  path: string
  title: string | null
  /** The referring URL, kept only when it is outside the site (an internal referrer says nothing new). */
  referrer: string | null
  utmSource: string | null
  utmMedium: string | null
  utmCampaign: string | null
  utmTerm: string | null
  utmContent: string | null
  gclid: string | null
  fbclid: string | null
  msclkid: string | null
  liFatId: string | null
  screenWidth: number | null
  language: string | null
  timezone: string | null
  browser: string | null
  os: string | null
  /** desktop, mobile, tablet, tv, console, wearable or embedded. */
  device: string | null
  isBot: boolean
  props: Properties | null
}

/** A trait's latest value and when it was set. */
export type TraitRecord = Record<string, { value: unknown; setAt: number }>

/** Activity over all of a person's visitor ids. */
export interface Activity {
  firstSeen: number | null
  lastSeen: number | null
  events: number
}

export interface PersonRecord extends Person, Activity {
  traits: TraitRecord
  visitorIds: string[]
  company: (Company & { traits: TraitRecord }) | null
}

export interface CompanyRecord extends Company {
  traits: TraitRecord
  people: (Person & Activity & { traits: TraitRecord })[]
}

export type PersonRef = { id: string } | { email: string } | { userId: string }
export type CompanyRef = { id: string } | { domain: string } | { groupId: string }

export interface EventQuery {
  siteId: string
  /** Every event of every visitor id of this person, before and after they were identified. */
  personId?: string
  /** Inclusive lower bound on occurredAt. */
  from?: number
  /** Exclusive upper bound on occurredAt. */
  to?: number
  visitorId?: string
  kind?: EventKind
}

/**
 * Where events and sites live. Narrow on purpose, so that a server database can stand beside
 * SQLite: everything else in the collector speaks to this and to nothing below it.
 */
export interface Store {
  /**
   * Stores events; resolves only once they are durable. An id stored before is not stored again.
   * Identify and group events update the identity graph in the same commit.
   */
  appendEvents(events: StoredEvent[]): Promise<void>
  findPerson(siteId: string, ref: PersonRef): Promise<PersonRecord | undefined>
  findCompany(siteId: string, ref: CompanyRef): Promise<CompanyRecord | undefined>
  /** Events in order of occurrence, streamed so memory stays flat whatever their number. */
  queryEvents(query: EventQuery): AsyncIterable<StoredEvent>
  addSite(site: Site): Promise<void>
  findSite(id: string): Promise<Site | undefined>
  listSites(): Promise<Site[]>
  /** Whether the store can take writes now (for /readyz). */
  writable(): Promise<boolean>
  close(): Promise<void>
}

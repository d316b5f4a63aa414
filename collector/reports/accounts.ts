import type { Journey } from '../stages/config'
import type { FunnelCounts } from './funnel'
import { roleOf } from './segments'

/** A person as the committee needs them. */
export interface AccountPerson {
  id: string
  email: string | null
  userId: string | null
  companyId: string | null
  traits: Record<string, unknown>
  firstSeen: number | null
  lastSeen: number | null
  stage: string | null
  /** Their entry into the goal stage, if they made one: the session tells whether theirs moved the company. */
  goalEntry: { at: number; sessionId: string } | null
  /** A visit in the `engagedDays` before the report's end. */
  engaged: boolean
}

export interface AccountCompany {
  id: string
  domain: string | null
  groupId: string | null
  traits: Record<string, unknown>
  stage: string | null
  stageEnteredAt: number | null
  lastSeen: number | null
  goalEntry: { at: number; sessionId: string } | null
  /** The first of all its people to come (a segment may list only some of them). */
  firstPersonId: string | null
  /** The first of its people to ask for what the goal stage names: a demo, a contact, a quote… */
  requestedBy: string | null
  /** Its way so far: touches, days and channels from its first touch to entering its current stage. */
  length: { stage: string; touches: number; days: number; channels: number } | null
}

export interface CommitteeMember {
  personId: string
  /** Email, user id or id: what a marketer knows them by. */
  name: string
  /** Job title or seniority (trait role, title, jobTitle, job_title, position or seniority). */
  role: string | null
  stage: string | null
  firstSeen: number | null
  lastSeen: number | null
  /** A session in the last `engagedDays` days. */
  engaged: boolean
  /** The first of the company's people to come. */
  cameFirst: boolean
  /** The person whose visit moved the company into the goal stage (in the default journey, possibly by signing up). */
  movedToGoal: boolean
  /** The first of the company's people to ask for what the goal stage names: who asked for the demo. */
  requested: boolean
}

export interface Account {
  companyId: string
  name: string
  domain: string | null
  traits: Record<string, unknown>
  stage: string | null
  stageEnteredAt: number | null
  lastSeen: number | null
  people: number
  engagedPeople: number
  length: AccountCompany['length']
  /** Its people, or with a cap the most telling of them (see committeeOf), in the order they first came. */
  members: CommitteeMember[]
}

/** What accounts are ranked by. */
export type Ranked = Pick<Account, 'companyId' | 'stage' | 'people' | 'engagedPeople' | 'lastSeen'>

/**
 * The accounts' order: those with the most engaged people first, then the furthest along, then
 * those with the most people, then the most recently seen: several people of one account reading
 * at once is the strongest buying signal.
 */
export function accountOrder(journey: Journey) {
  const order = new Map(journey.stages.map((s, i) => [s.name, i]))
  const rank = (a: Ranked) => (a.stage === null ? -1 : order.get(a.stage) ?? -1)
  return (a: Ranked, b: Ranked) =>
    b.engagedPeople - a.engagedPeople || rank(b) - rank(a) || b.people - a.people || (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || a.companyId.localeCompare(b.companyId)
}

/**
 * At most `cap` of a committee, in the order they first came: those who came first, asked or moved
 * the account on before the rest, then the engaged. A company with thousands of people would
 * otherwise fill the page; the export lists them all.
 */
export function committeeOf(members: CommitteeMember[], cap: number): CommitteeMember[] {
  if (members.length <= cap) return members
  const notable = (m: CommitteeMember) => m.cameFirst || m.requested || m.movedToGoal
  const kept = new Set([...new Set([...members.filter(notable), ...members.filter((m) => m.engaged), ...members])].slice(0, cap))
  return members.filter((m) => kept.has(m))
}

/**
 * Buying committees: each company with its known people, their roles, who came first, who asked
 * for what the goal stage names (the demo), who moved the account into it, how many were engaged
 * lately, and its journey length so far; the first `limit` in accountOrder, each with at most
 * `members` of its people listed (all of them counted).
 */
export function accountsFold(journey: Journey, options: { limit: number; members?: number }) {
  const peopleOf = new Map<string, AccountPerson[]>()
  const companies: AccountCompany[] = []

  return {
    addPerson(person: AccountPerson) {
      if (!person.companyId) return
      let list = peopleOf.get(person.companyId)
      if (!list) peopleOf.set(person.companyId, (list = []))
      list.push(person)
    },
    addCompany(company: AccountCompany) {
      companies.push(company)
    },
    result() {
      const accounts: Account[] = companies.map((company) => {
        const people = [...(peopleOf.get(company.id) ?? [])].sort((a, b) => (a.firstSeen ?? Infinity) - (b.firstSeen ?? Infinity) || a.id.localeCompare(b.id))
        const members: CommitteeMember[] = people.map((p) => ({
          personId: p.id,
          name: p.email ?? p.userId ?? p.id,
          role: roleOf(p.traits),
          stage: p.stage,
          firstSeen: p.firstSeen,
          lastSeen: p.lastSeen,
          engaged: p.engaged,
          cameFirst: p.id === company.firstPersonId,
          requested: p.id === company.requestedBy,
          movedToGoal: Boolean(company.goalEntry && p.goalEntry && p.goalEntry.sessionId === company.goalEntry.sessionId && p.goalEntry.at === company.goalEntry.at),
        }))
        return {
          companyId: company.id,
          name: typeof company.traits.name === 'string' && company.traits.name ? company.traits.name : (company.domain ?? company.groupId ?? company.id),
          domain: company.domain,
          traits: company.traits,
          stage: company.stage,
          stageEnteredAt: company.stageEnteredAt,
          lastSeen: company.lastSeen,
          people: members.length,
          engagedPeople: members.filter((m) => m.engaged).length,
          length: company.length,
          members: committeeOf(members, options.members ?? Infinity),
        }
      })
      accounts.sort(accountOrder(journey))
      return { total: accounts.length, accounts: accounts.slice(0, options.limit) }
    },
  }
}

/**
 * People and companies entering each stage in the range: the account funnel beside the people
 * funnel, from the funnel's counts (known people only; anonymous visitors have no account).
 */
export function accountFunnelOf(journey: Journey, counts: FunnelCounts) {
  const entered = (stage: string, owners: 'people' | 'companies') =>
    counts.flows.filter((f) => f.stage === stage && f.owners === owners).reduce((sum, f) => sum + (owners === 'people' ? f.known : f.entered), 0)
  return journey.stages.map(({ name }) => ({ stage: name, people: entered(name, 'people'), companies: entered(name, 'companies') }))
}

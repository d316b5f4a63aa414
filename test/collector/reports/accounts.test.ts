import { describe, expect, it } from 'vitest'
import { accountFunnelOf, accountsFold, type AccountCompany, type AccountPerson } from '../../../collector/reports/accounts'
import { funnelCountsFold } from '../../../collector/reports/funnel'
import type { OwnerType } from '../../../collector/store/types'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1)
/** Judged 60 days after T0. Whether a person was engaged (a visit in the 30 days before) the caller works out from sessions. */
const AS_OF = T0 + 60 * DAY
const OPTIONS: { limit: number; members?: number } = { limit: 50 }

const personOf = (id: string, companyId: string | null, fields: Partial<AccountPerson> = {}): AccountPerson => ({
  id, email: `${id}@acme.example`, userId: null, companyId, traits: {}, firstSeen: T0, lastSeen: T0, stage: 'awareness', goalEntry: null, engaged: false, ...fields,
})
const companyOf = (id: string, fields: Partial<AccountCompany> = {}): AccountCompany => ({
  id, domain: `${id}.example`, groupId: null, traits: {}, stage: 'awareness', stageEnteredAt: T0, lastSeen: T0, goalEntry: null, firstPersonId: null, requestedBy: null, length: null, ...fields,
})

function accounts(people: AccountPerson[], companies: AccountCompany[], options = OPTIONS) {
  const fold = accountsFold(DEFAULT_JOURNEY, options)
  for (const c of companies) fold.addCompany(c)
  for (const p of people) fold.addPerson(p)
  return fold.result()
}

describe('Buying committees', () => {
  it("lists each company's people by when they first came, with their roles, and who came first", () => {
    const { total, accounts: [acme] } = accounts(
      [
        personOf('zed', 'acme', { firstSeen: T0 + 5 * DAY, traits: { title: 'CFO' } }),
        // Known but never seen in a session: listed last, and never the first to come.
        personOf('ghost', 'acme', { firstSeen: null, lastSeen: null, traits: { jobTitle: 'Intern' } }),
        personOf('amy', 'acme', { firstSeen: T0 + 2 * DAY, traits: { role: 'CTO', title: 'Chief Technology Officer' } }),
        // Same first moment as amy: ties go by id.
        personOf('bob', 'acme', { firstSeen: T0 + 2 * DAY, email: null, userId: 'u-42', traits: { seniority: 'Director' } }),
      ],
      // Who came first and who asked are given: the first of all its people, whom a segment might not list.
      [companyOf('acme', { firstPersonId: 'amy', requestedBy: 'zed', length: { stage: 'decision', touches: 4, days: 3, channels: 2 } })],
    )
    expect(acme.members.filter((m) => m.requested).map((m) => m.personId)).toEqual(['zed'])
    expect(acme.length).toEqual({ stage: 'decision', touches: 4, days: 3, channels: 2 })
    expect(total).toBe(1)
    expect(acme.members.map((m) => [m.personId, m.name, m.role, m.cameFirst])).toEqual([
      ['amy', 'amy@acme.example', 'CTO', true], // role before title
      ['bob', 'u-42', 'Director', false], // no email: the user id
      ['zed', 'zed@acme.example', 'CFO', false],
      ['ghost', 'ghost@acme.example', 'Intern', false],
    ])
    expect(acme.people).toBe(4)
  })

  it('finds the role under role, title, jobTitle, job_title, position or seniority, trimmed, skipping blanks', () => {
    const roles = [
      { role: '  ', title: 'CTO ' },
      { jobTitle: 'VP Sales' },
      { job_title: 'Head of IT' },
      { position: 'Buyer', seniority: 'Senior' },
      { seniority: 'C-level' },
      { role: 42, title: 'Founder' },
      { name: 'No role here' },
    ]
    const { accounts: [acme] } = accounts(
      roles.map((traits, i) => personOf(`p${i}`, 'acme', { firstSeen: T0 + i * DAY, traits })),
      [companyOf('acme')],
    )
    expect(acme.members.map((m) => m.role)).toEqual(['CTO', 'VP Sales', 'Head of IT', 'Buyer', 'C-level', 'Founder', null])
  })

  it('shows who was engaged, and counts them per account', () => {
    const { accounts: [acme] } = accounts(
      [personOf('a', 'acme', { engaged: true }), personOf('b', 'acme'), personOf('c', 'acme', { engaged: true })],
      [companyOf('acme')],
    )
    expect(acme.members.map((m) => [m.personId, m.engaged])).toEqual([['a', true], ['b', false], ['c', true]])
    expect(acme.engagedPeople).toBe(2)
  })

  it('names as having moved the account into the goal stage the person whose entry is the company’s: same session, same moment', () => {
    const goal = { at: T0 + 10 * DAY, sessionId: 's-demo' }
    const { accounts: [acme] } = accounts(
      [
        personOf('asker', 'acme', { goalEntry: goal }),
        // Entered the goal stage later, in their own session.
        personOf('later', 'acme', { firstSeen: T0 + DAY, goalEntry: { at: T0 + 12 * DAY, sessionId: 's-later' } }),
        // The same session but another moment, and the same moment but another session: neither is the company's entry.
        personOf('same-session', 'acme', { firstSeen: T0 + 2 * DAY, goalEntry: { at: goal.at + 1, sessionId: 's-demo' } }),
        personOf('same-moment', 'acme', { firstSeen: T0 + 3 * DAY, goalEntry: { at: goal.at, sessionId: 's-other' } }),
        personOf('none', 'acme', { firstSeen: T0 + 4 * DAY }),
      ],
      [companyOf('acme', { stage: 'decision', goalEntry: goal })],
    )
    expect(acme.members.map((m) => [m.personId, m.movedToGoal])).toEqual([
      ['asker', true], ['later', false], ['same-session', false], ['same-moment', false], ['none', false],
    ])
    // A company that has not reached the goal was moved there by no one.
    const { accounts: [beta] } = accounts([personOf('p', 'beta', { goalEntry: goal })], [companyOf('beta')])
    expect(beta.members[0].movedToGoal).toBe(false)
  })

  it('names an account by its name trait, else its domain, account id or id', () => {
    const result = accounts([], [
      companyOf('c1', { traits: { name: 'Acme Corp' } }),
      companyOf('c2', { traits: { name: '' } }),
      companyOf('c3', { domain: null, groupId: 'acct-3' }),
      companyOf('c4', { domain: null, traits: { name: 7 } }),
    ])
    expect(result.accounts.map((a) => [a.companyId, a.name])).toEqual([['c1', 'Acme Corp'], ['c2', 'c2.example'], ['c3', 'acct-3'], ['c4', 'c4']])
  })

  it('leaves out people with no company and people of companies not listed', () => {
    const result = accounts([personOf('free', null), personOf('other', 'gone'), personOf('kept', 'acme')], [companyOf('acme'), companyOf('empty')])
    expect(result.accounts.find((a) => a.companyId === 'acme')!.members.map((m) => m.personId)).toEqual(['kept'])
    expect(result.accounts.find((a) => a.companyId === 'empty')).toMatchObject({ people: 0, engagedPeople: 0, members: [] })
  })

  it('orders by engaged people, then the furthest stage, then people, then the most recently seen, then id', () => {
    const recent = { lastSeen: AS_OF - DAY, engaged: true }
    const people = [
      // a: 2 engaged, awareness.
      personOf('a1', 'a', recent), personOf('a2', 'a', recent),
      // b: 1 engaged, decision, 1 person.
      personOf('b1', 'b', recent),
      // c: 1 engaged, decision, 2 people.
      personOf('c1', 'c', recent), personOf('c2', 'c'),
      // d: 1 engaged, purchase.
      personOf('d1', 'd', recent),
      // e, f: nobody engaged, consideration, 1 person; f seen more recently.
      personOf('e1', 'e'), personOf('f1', 'f'),
      // g: nobody engaged, no stage, 3 people.
      personOf('g1', 'g'), personOf('g2', 'g'), personOf('g3', 'g'),
      // h, i: as e, seen at the same moment as f: by id.
      personOf('h1', 'h'), personOf('i1', 'i'),
    ]
    const companies = [
      companyOf('i', { stage: 'consideration', lastSeen: T0 + 3 * DAY }),
      companyOf('h', { stage: 'consideration', lastSeen: T0 + 3 * DAY }),
      companyOf('g', { stage: null, lastSeen: T0 + 20 * DAY }),
      companyOf('f', { stage: 'consideration', lastSeen: T0 + 3 * DAY }),
      companyOf('e', { stage: 'consideration', lastSeen: T0 + 2 * DAY }),
      companyOf('d', { stage: 'purchase' }),
      companyOf('c', { stage: 'decision' }),
      companyOf('b', { stage: 'decision' }),
      companyOf('a', { stage: 'awareness' }),
    ]
    const result = accounts(people, companies)
    expect(result.accounts.map((a) => [a.companyId, a.engagedPeople])).toEqual([
      ['a', 2], ['d', 1], ['c', 1], ['b', 1], ['f', 0], ['h', 0], ['i', 0], ['e', 0], ['g', 0],
    ])
    // The limit cuts the list, not the total.
    const top = accounts(people, companies, { ...OPTIONS, limit: 3 })
    expect(top.total).toBe(9)
    expect(top.accounts.map((a) => a.companyId)).toEqual(['a', 'd', 'c'])
  })

  it('lists at most so many of a committee when asked, those who came first, asked or moved it on before the engaged, and counts them all', () => {
    const people = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id, i) =>
      personOf(id, 'acme', { firstSeen: T0 + i * DAY, engaged: id === 'p5' || id === 'p6', goalEntry: id === 'p4' ? { at: T0 + 9 * DAY, sessionId: 's9' } : null }),
    )
    const company = companyOf('acme', { firstPersonId: 'p1', requestedBy: 'p3', goalEntry: { at: T0 + 9 * DAY, sessionId: 's9' } })
    const shown = (members: number) => accounts(people, [company], { limit: 50, members }).accounts[0]
    // Came first (p1), asked (p3), moved it on (p4), then the engaged (p5, p6), then the rest: shown in the order they came.
    expect(shown(4).members.map((m) => m.personId)).toEqual(['p1', 'p3', 'p4', 'p5'])
    expect(shown(2).members.map((m) => m.personId)).toEqual(['p1', 'p3'])
    expect(shown(6).members.map((m) => m.personId)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'])
    expect(shown(4)).toMatchObject({ people: 6, engagedPeople: 2 })
  })

  it('carries the company’s own figures through', () => {
    const { accounts: [acme] } = accounts([], [
      companyOf('acme', { traits: { industry: 'Software', employees: 250 }, stage: 'decision', stageEnteredAt: T0 + 4 * DAY, lastSeen: T0 + 9 * DAY }),
    ])
    expect(acme).toEqual({
      companyId: 'acme', name: 'acme.example', domain: 'acme.example', traits: { industry: 'Software', employees: 250 },
      stage: 'decision', stageEnteredAt: T0 + 4 * DAY, lastSeen: T0 + 9 * DAY, people: 0, engagedPeople: 0, length: null, members: [],
    })
  })
})

/** The account funnel of owners who each entered one stage, from the funnel's counts of them. */
function accountFunnel(range: { from?: number; to?: number }, entries: { ownerType: OwnerType; stage: string; at: number }[]) {
  const stages = DEFAULT_JOURNEY.stages.map((s) => s.name)
  const counts = funnelCountsFold(stages, { ...range, asOf: AS_OF, stalledBefore: Number.MIN_SAFE_INTEGER, limit: 0 })
  entries.forEach((e, i) => counts.add({ ownerType: e.ownerType, ownerId: `owner-${i}`, at: stages.map((stage) => (stage === e.stage ? e.at : null)) }))
  return accountFunnelOf(DEFAULT_JOURNEY, counts.result())
}

describe('The account funnel', () => {
  it('counts people and companies entering each stage within [from, to), and not anonymous visitors', () => {
    const entries: { ownerType: OwnerType; stage: string; at: number }[] = [
      { ownerType: 'person', stage: 'awareness', at: T0 }, // at `from`: in
      { ownerType: 'person', stage: 'awareness', at: T0 + 30 * DAY }, // at `to`: out
      { ownerType: 'person', stage: 'awareness', at: T0 - 1 }, // before: out
      { ownerType: 'person', stage: 'decision', at: T0 + DAY },
      { ownerType: 'company', stage: 'awareness', at: T0 + 2 * DAY },
      { ownerType: 'company', stage: 'decision', at: T0 + 3 * DAY },
      { ownerType: 'company', stage: 'decision', at: T0 + 4 * DAY },
      { ownerType: 'visitor', stage: 'awareness', at: T0 + DAY },
    ]
    expect(accountFunnel({ from: T0, to: T0 + 30 * DAY }, entries)).toEqual([
      { stage: 'awareness', people: 1, companies: 1 },
      { stage: 'consideration', people: 0, companies: 0 },
      { stage: 'decision', people: 1, companies: 2 },
      { stage: 'purchase', people: 0, companies: 0 },
      { stage: 'loyalty', people: 0, companies: 0 },
      { stage: 'advocacy', people: 0, companies: 0 },
    ])
  })

  it('counts everything without a range', () => {
    const funnel = accountFunnel({}, [
      { ownerType: 'person', stage: 'purchase', at: 0 },
      { ownerType: 'company', stage: 'purchase', at: Date.UTC(2100, 0, 1) },
    ])
    expect(funnel.find((c) => c.stage === 'purchase')).toEqual({ stage: 'purchase', people: 1, companies: 1 })
  })
})

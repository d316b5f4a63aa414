import Database from 'better-sqlite3'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WireEvent } from '../../shared/wire'
import { batch, collectorWithSite, pageview } from './helpers'

let c: Awaited<ReturnType<typeof collectorWithSite>>
beforeAll(async () => {
  c = await collectorWithSite()
})
afterAll(() => c.close())

const minutesAgo = (minutes: number) => Date.now() - minutes * 60_000
const identify = (subject: string, traits: Record<string, unknown> = {}, t = Date.now()): WireEvent => ({
  id: ulid(), k: 'i', t, u: 'https://www.example.com/demo', n: subject, p: traits as never,
})
const group = (account: string, traits: Record<string, unknown> = {}, t = Date.now()): WireEvent => ({
  id: ulid(), k: 'g', t, u: 'https://www.example.com/app', n: account, p: traits as never,
})
/** Sends events as one visitor (a browser); returns the visitor id. */
async function visit(events: WireEvent[], visitor = ulid()) {
  const response = await c.post(batch(c.site.id, events, { v: visitor }))
  expect(response.status).toBe(200)
  return visitor
}
const person = (ref: { email: string } | { userId: string }) => c.collector.store.findPerson(c.site.id, ref)
const history = async (personId: string) => {
  const events = []
  for await (const event of c.collector.store.queryEvents({ siteId: c.site.id, personId })) events.push(event)
  return events
}

describe('Identify', () => {
  it('ties the visitor to a person, and the anonymous history before it becomes theirs', async () => {
    const visitor = await visit([
      pageview({ t: minutesAgo(30), u: 'https://www.example.com/blog/crm-guide' }),
      pageview({ t: minutesAgo(20), u: 'https://www.example.com/pricing' }),
    ])
    await visit([identify('ada@acme.io', { firstName: 'Ada' })], visitor)
    const ada = (await person({ email: 'ada@acme.io' }))!
    expect(ada).toMatchObject({ email: 'ada@acme.io', userId: null, visitorIds: [visitor], events: 3 })
    expect(ada.traits.firstName).toMatchObject({ value: 'Ada' })
    expect(ada.firstSeen).toBeLessThanOrEqual(minutesAgo(29))
    expect((await history(ada.id)).map((e) => e.path)).toEqual(['/blog/crm-guide', '/pricing', '/demo'])
  })

  it('a user id or email identified on a second device brings both devices under one person', async () => {
    const laptop = await visit([pageview({ t: minutesAgo(60 * 24) }), identify('u-laptop-phone', {}, minutesAgo(60 * 24 - 1))])
    const phone = await visit([pageview({ t: minutesAgo(5), u: 'https://www.example.com/case-studies' })])
    await visit([identify('u-laptop-phone')], phone)
    const p = (await person({ userId: 'u-laptop-phone' }))!
    expect(p.visitorIds.sort()).toEqual([laptop, phone].sort())
    expect((await history(p.id)).map((e) => e.visitorId)).toEqual([laptop, laptop, phone, phone])
  })

  it('merges the people an identify proves to be one (a user id and an email known apart)', async () => {
    const app = await visit([identify('u-grace')])
    const form = await visit([pageview(), identify('grace@hopper.example')])
    const login = await visit([identify('u-grace', { email: 'Grace@Hopper.example' })])
    const grace = (await person({ userId: 'u-grace' }))!
    expect(grace.email).toBe('grace@hopper.example')
    expect(grace.visitorIds.sort()).toEqual([app, form, login].sort())
    expect((await person({ email: 'grace@hopper.example' }))!.id).toBe(grace.id)
  })

  it('never moves an identified visitor id to another person, and records the refusal', async () => {
    const shared = await visit([pageview(), identify('u-first')])
    await visit([identify('u-second')], shared)
    const first = (await person({ userId: 'u-first' }))!
    const second = (await person({ userId: 'u-second' }))!
    expect(first.visitorIds).toEqual([shared])
    expect(second.visitorIds).toEqual([])
    const db = new Database(c.dbPath, { readonly: true })
    expect(db.prepare('SELECT kept_person_id, refused_person_id FROM identity_conflicts WHERE visitor_id = ?').all(shared)).toEqual([
      { kept_person_id: first.id, refused_person_id: second.id },
    ])
    db.close()
  })

  it('adds a user id to the person an email identified on the same browser', async () => {
    const visitor = await visit([identify('lin@lin.example')])
    await visit([identify('u-lin')], visitor)
    expect(await person({ userId: 'u-lin' })).toMatchObject({ email: 'lin@lin.example', visitorIds: [visitor] })
  })

  it('lets a person known by user id change their email, to one no one else holds', async () => {
    const visitor = await visit([identify('u-mover', { email: 'old@mover.example' })])
    await visit([identify('u-mover', { email: 'new@mover.example' })], visitor)
    expect((await person({ userId: 'u-mover' }))!.email).toBe('new@mover.example')
    expect(await person({ email: 'old@mover.example' })).toBeUndefined()
  })

  it('keeps for each trait the value set latest, with when, whatever order the events arrive in', async () => {
    const visitor = await visit([identify('kim@kim.example', { title: 'CTO' }, minutesAgo(10))])
    await visit([identify('kim@kim.example', { title: 'CEO' }, minutesAgo(5))], visitor)
    await visit([identify('kim@kim.example', { title: 'Intern', city: 'Oslo' }, minutesAgo(20))], visitor)
    const kim = (await person({ email: 'kim@kim.example' }))!
    expect(kim.traits.title.value).toBe('CEO')
    expect(kim.traits.title.setAt).toBeGreaterThan(minutesAgo(6))
    expect(kim.traits.city.value).toBe('Oslo')
  })

  it('reset starts a new anonymous id whose events are not the person\'s', async () => {
    const before = await visit([identify('pat@pat.example')])
    const after = await visit([pageview()]) // the snippet's new anonymous id after waymark('reset')
    const pat = (await person({ email: 'pat@pat.example' }))!
    expect(pat.visitorIds).toEqual([before])
    expect((await history(pat.id)).some((e) => e.visitorId === after)).toBe(false)
  })
})

describe('Companies', () => {
  it('makes a company from a business email domain, and lists its people with their activity', async () => {
    await visit([pageview(), pageview(), identify('ada@initech.example')])
    await visit([identify('bob@initech.example')])
    const company = (await c.collector.store.findCompany(c.site.id, { domain: 'initech.example' }))!
    expect(company.people.map((p) => [p.email, p.events])).toEqual([
      ['ada@initech.example', 3],
      ['bob@initech.example', 1],
    ])
    expect((await person({ email: 'ada@initech.example' }))!.company).toMatchObject({ id: company.id, domain: 'initech.example' })
  })

  it('never makes a company from a free-mail domain', async () => {
    await visit([identify('someone@gmail.com')])
    await visit([identify('other@outlook.com')])
    expect((await person({ email: 'someone@gmail.com' }))!.company).toBeNull()
    expect(await c.collector.store.findCompany(c.site.id, { domain: 'gmail.com' })).toBeUndefined()
  })

  it('group ties the person to the account, adopting the company their email domain made', async () => {
    const visitor = await visit([identify('cto@globex.example')])
    const fromEmail = (await c.collector.store.findCompany(c.site.id, { domain: 'globex.example' }))!
    await visit([group('acct-globex', { name: 'Globex', domain: 'https://www.globex.example', plan: 'enterprise' })], visitor)
    const company = (await c.collector.store.findCompany(c.site.id, { groupId: 'acct-globex' }))!
    expect(company.id).toBe(fromEmail.id)
    expect(company.traits.name.value).toBe('Globex')
    expect(await person({ email: 'cto@globex.example' })).toMatchObject({ companyId: company.id, companySource: 'group' })
  })

  it('applies a group call made while anonymous once the visitor identifies', async () => {
    const visitor = await visit([group('acct-umbrella', { name: 'Umbrella' })])
    await visit([identify('alice@gmail.com')], visitor)
    expect((await person({ email: 'alice@gmail.com' }))!.company).toMatchObject({ groupId: 'acct-umbrella' })
  })

  it('does not let an email domain override a company set by group', async () => {
    const visitor = await visit([group('acct-hooli'), identify('u-gavin')])
    await visit([identify('u-gavin', { email: 'gavin@piedpiper.example' })], visitor)
    expect((await person({ userId: 'u-gavin' }))!.company).toMatchObject({ groupId: 'acct-hooli' })
  })
})

describe('Form events', () => {
  it('are stored under readable property names', async () => {
    const visitor = await visit([
      { id: ulid(), k: 'ff', t: Date.now(), u: 'https://www.example.com/demo', n: 'demo', p: { f: 'email', y: 'email', ms: 1200, c: 11, x: 0, i: 1 } },
    ])
    const [event] = await c.events(visitor)
    expect(event).toMatchObject({ kind: 'form_field', name: 'demo', props: { field: 'email', fieldType: 'email', ms: 1200, changes: 11, clears: 0, invalid: 1 } })
  })

  it('need their form key', async () => {
    const response = await c.post(batch(c.site.id, [{ id: ulid(), k: 'fs', t: Date.now(), u: 'https://www.example.com/' }]))
    expect(response.status).toBe(400)
    expect(JSON.stringify(await response.json())).toContain(`a form_start event needs \\"n\\" (the form's key)`)
  })
})

describe('Sessions', () => {
  it('of a person’s other devices take the company a group call on one device gives them', async () => {
    const laptop = await visit([pageview({ t: minutesAgo(90) }), identify('u-oscar', {}, minutesAgo(89))])
    const phone = await visit([pageview({ t: minutesAgo(50) }), identify('oscar@gmail.com', {}, minutesAgo(49))])
    // Known apart until the laptop names both: the phone's person is merged into one.
    await visit([identify('u-oscar', { email: 'oscar@gmail.com' })], laptop)
    await visit([group('acct-initech', { name: 'Initech' })], laptop)
    await c.collector.store.settle()
    const db = new Database(c.dbPath, { readonly: true })
    const oscar = (await person({ userId: 'u-oscar' }))!
    const owners = db.prepare('SELECT DISTINCT person_id, company_id FROM sessions WHERE visitor_id IN (?, ?)').all(laptop, phone)
    db.close()
    expect(owners).toEqual([{ person_id: oscar.id, company_id: oscar.company!.id }])
  })

  it('each hold the person its visitor id is now theirs, and that person’s company, after every merge and group call above', async () => {
    await c.collector.store.settle()
    const db = new Database(c.dbPath, { readonly: true })
    const owners = db.prepare(
      `SELECT count(s.person_id) AS people, count(s.company_id) AS companies,
         count(*) FILTER (WHERE s.person_id IS NOT i.person_id OR s.company_id IS NOT p.company_id) AS wrong
       FROM sessions s LEFT JOIN identities i ON i.site_id = s.site_id AND i.visitor_id = s.visitor_id LEFT JOIN people p ON p.id = i.person_id`,
    ).get() as { people: number; companies: number; wrong: number }
    db.close()
    expect(owners.people).toBeGreaterThan(10)
    expect(owners.companies).toBeGreaterThan(3)
    expect(owners.wrong).toBe(0)
  })
})

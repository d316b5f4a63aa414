import { describe, expect, it } from 'vitest'
import { planIdentify } from '../../../collector/identity/plan'
import type { Person } from '../../../collector/identity/types'

const person = (id: string, keys: { userId?: string; email?: string } = {}): Person => ({
  id, siteId: 's', userId: keys.userId ?? null, email: keys.email ?? null, companyId: null, companySource: null, createdAt: 0,
})
const A = person('A', { userId: 'u1' })
const B = person('B', { email: 'b@x.io' })
const C = person('C', { userId: 'u2', email: 'c@x.io' })
const D = person('D', { userId: 'u9', email: 'd@x.io' })

describe('Who an identify is about', () => {
  it.each([
    ['a new visitor with a new id: a new person, linked', { userId: 'u1' }, {}, { target: undefined, link: true, setUserId: 'u1' }],
    ['a known user id: that person, linked', { userId: 'u1' }, { byUserId: A }, { target: A, link: true, setUserId: undefined }],
    ['a known user id with a new email no one holds: the email changes', { userId: 'u2', email: 'new@x.io' }, { byUserId: C }, { target: C, setEmail: 'new@x.io' }],
    ['a known email: that person', { email: 'b@x.io' }, { byEmail: B }, { target: B, setEmail: undefined }],
    ['a new user id on a visitor known by email only: the same person gains the id', { userId: 'u5' }, { ofVisitor: B }, { target: B, setUserId: 'u5', link: true }],
    ['a user id and an email known under two people: they merge', { userId: 'u1', email: 'b@x.io' }, { byUserId: A, byEmail: B }, { target: A, merge: B, setEmail: 'b@x.io' }],
    ['an email held by someone with another user id: no merge, the email stays theirs', { userId: 'u1', email: 'd@x.io' }, { byUserId: A, byEmail: D }, { target: A, merge: undefined, setEmail: undefined }],
    ['an email of someone with another user id, for a new user id: a new person without it', { userId: 'u7', email: 'd@x.io' }, { byEmail: D }, { target: undefined, setUserId: 'u7', setEmail: undefined }],
  ] as const)('%s', (_, keys, found, expected) => {
    expect(planIdentify(keys, found)).toMatchObject(expected)
  })

  it.each([
    ['another user id on an identified visitor', { userId: 'u3' }, { ofVisitor: A }],
    ['another known person on an identified visitor', { userId: 'u1' }, { byUserId: A, ofVisitor: C }],
    ['another email on a visitor known by email', { email: 'new@x.io' }, { ofVisitor: B }],
  ] as const)('never moves the visitor id: %s', (_, keys, found) => {
    const plan = planIdentify(keys, found)
    expect(plan.link).toBe(false)
    expect(plan.conflictWith).toBe(found.ofVisitor)
  })

  it('links the visitor of a person being merged into the target', () => {
    expect(planIdentify({ userId: 'u1', email: 'b@x.io' }, { byUserId: A, byEmail: B, ofVisitor: B })).toMatchObject({
      target: A, merge: B, link: true, conflictWith: undefined,
    })
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { openPage, QUEUE_STUB } from './harness'

let page: Awaited<ReturnType<typeof openPage>> | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

const call = (code: string) => page!.window.eval(code)

describe('identify, group, track and reset', () => {
  it('sends identify with the user id or email and traits', async () => {
    page = await openPage({ before: QUEUE_STUB })
    call(`waymark('identify', 'ada@acme.io', {plan: 'trial'})`)
    await page.advance(1000)
    expect(page.events()[1]).toMatchObject({ k: 'identify', n: 'ada@acme.io', p: { plan: 'trial' } })
  })

  it('sends group with the account id and traits, and track with a name and properties', async () => {
    page = await openPage({ before: `${QUEUE_STUB}; waymark('group', 42, {name: 'Acme'}); waymark('track', 'Guide downloaded', {guide: 'sizing'})` })
    await page.advance(1000)
    expect(page.events().slice(1)).toEqual([
      expect.objectContaining({ k: 'group', n: '42', p: { name: 'Acme' } }),
      expect.objectContaining({ k: 'track', n: 'Guide downloaded', p: { guide: 'sizing' } }),
    ])
  })

  it('ignores identify, group and track without an id or name', async () => {
    page = await openPage({ before: `${QUEUE_STUB}; waymark('identify'); waymark('group', ''); waymark('track')` })
    await page.advance(1000)
    expect(page.events()).toHaveLength(1)
  })

  it('keeps the anonymous id when the same person identifies again', async () => {
    page = await openPage({ before: QUEUE_STUB })
    call(`waymark('identify', 'u1'); waymark('identify', 'u1')`)
    await page.advance(1000)
    expect(new Set(page.sent.map((request) => request.batch.v)).size).toBe(1)
  })

  it('starts a new anonymous id when a different person identifies, so their histories never mix', async () => {
    page = await openPage({ before: QUEUE_STUB })
    call(`waymark('identify', 'ada@acme.io')`)
    call(`waymark('identify', 'grace@acme.io')`)
    await page.advance(1000)
    const [first, second] = page.sent
    expect(first.batch.e.map((event) => event.n ?? event.k)).toEqual(['p', 'ada@acme.io'])
    expect(second.batch.e.map((event) => event.n)).toEqual(['grace@acme.io'])
    expect(second.batch.v).not.toBe(first.batch.v)
    expect(page.window.localStorage.getItem('waymark_vid')).toBe(second.batch.v)
  })

  it('keeps the anonymous id from an email to a user id: they may be one person, which the collector decides', async () => {
    page = await openPage({ before: QUEUE_STUB })
    call(`waymark('identify', 'Ada@Acme.io'); waymark('identify', 'u-42'); waymark('identify', 'ada@acme.io')`)
    await page.advance(1000)
    expect(new Set(page.sent.map((request) => request.batch.v)).size).toBe(1)
  })

  it('starts a new anonymous id for another user id after a user id', async () => {
    page = await openPage({ before: QUEUE_STUB })
    call(`waymark('identify', 'u-1', {email: 'a@acme.io'}); waymark('identify', 'u-2')`)
    await page.advance(1000)
    expect(new Set(page.sent.map((request) => request.batch.v)).size).toBe(2)
  })

  it('reset (on log-out) starts a new anonymous id and forgets the person', async () => {
    page = await openPage({ before: QUEUE_STUB })
    call(`waymark('identify', 'u1'); waymark('reset'); waymark('track', 'after')`)
    await page.advance(1000)
    const [before, after] = page.sent
    expect(after.batch.v).not.toBe(before.batch.v)
    expect(after.batch.e.map((event) => event.n)).toEqual(['after'])
    expect(page.window.localStorage.getItem('waymark_uid')).toBeNull()
    // A new person on this browser is not treated as a change of person.
    call(`waymark('identify', 'u2')`)
    await page.advance(1000)
    expect(page.sent.at(-1)!.batch.v).toBe(after.batch.v)
  })

  it('a batch keeps the visitor id of its moment, even when resent after a reset', async () => {
    page = await openPage({ before: QUEUE_STUB, respond: (attempt) => (attempt === 0 ? 'offline' : 200) })
    call(`waymark('track', 'before')`)
    const first = page.window.localStorage.getItem('waymark_vid')
    call(`waymark('reset')`) // the queued events leave now, under the old id, and that send fails
    await page.advance(2000)
    const resent = page.sent.filter((request) => request.batch.e.some((event) => event.n === 'before'))
    expect(resent).toHaveLength(2)
    expect(resent.every((request) => request.batch.v === first)).toBe(true)
  })
})

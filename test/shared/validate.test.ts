import { describe, expect, it } from 'vitest'
import { checkBatch, checkEvent, checkProperties } from '../../shared/validate'

const ID = '01J0000000000000000000000A'
const event = (overrides: Record<string, unknown> = {}) => ({ id: ID, k: 'p', t: 1.7e12, u: 'https://a.example/', ...overrides })

describe('The wire schema', () => {
  it('accepts a minimal page view and drops nothing it knows', () => {
    const checked = checkEvent(event({ r: 'https://b.example/', ti: 'T', n: 'N', p: { a: [1, 'x', null, { b: true }] } }))
    expect(checked).toEqual({ ok: true, value: event({ r: 'https://b.example/', ti: 'T', n: 'N', p: { a: [1, 'x', null, { b: true }] } }) })
  })

  it('drops fields it does not know', () => {
    const checked = checkEvent(event({ ip: '1.2.3.4', extra: 1 }))
    expect(checked.ok && Object.keys(checked.value).sort()).toEqual(['id', 'k', 't', 'u'])
  })

  it.each([
    [null, 'an event must be a JSON object'],
    [[], 'an event must be a JSON object'],
    [event({ id: 7 }), '"id" must be a ULID'],
    [event({ id: '01j0000000000000000000000a' }), '"id" must be a ULID'],
    [event({ t: Infinity }), '"t" must be a time in ms since the epoch'],
    [event({ t: -1 }), '"t" must be a time in ms since the epoch'],
    [event({ u: 'ftp://a.example/' }), `"u" must be the page's http(s) URL, at most 2048 characters`],
    [event({ u: 'https://a.example/' + 'x'.repeat(2048) }), `"u" must be the page's http(s) URL, at most 2048 characters`],
    [event({ r: 5 }), '"r" must be a string'],
    [event({ n: 'n'.repeat(201) }), '"n" is longer than 200 characters'],
    [event({ p: 'text' }), '"p" (properties) must be a JSON object'],
  ])('refuses %j: %s', (raw, reason) => {
    expect(checkEvent(raw)).toEqual({ ok: false, reason })
  })

  it.each([
    [{ a: 'x'.repeat(1025) }, 'property a is longer than 1024 characters'],
    [{ ['k'.repeat(101)]: 1 }, 'a property key is longer than 100 characters'],
    [{ a: { constructor: 1 } }, 'property key "constructor" is not allowed'],
    [{ a: [[[[1]]]] }, 'properties nest deeper than 3 levels at a.0.0'],
  ])('refuses properties %j', (props, reason) => {
    expect(checkProperties(props)).toEqual({ ok: false, reason })
  })

  it('counts nested properties toward the limit', () => {
    const wide = { a: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])) }
    expect(checkProperties(wide)).toEqual({ ok: false, reason: 'more than 50 properties' })
  })

  it('checks the batch around the events', () => {
    expect(checkBatch({ s: 'site', v: ID, t: 1.7e12, sw: 1280, l: 'en', z: 'UTC', e: [{}] })).toEqual({
      ok: true,
      value: { siteId: 'site', visitorId: ID, sentAt: 1.7e12, screenWidth: 1280, language: 'en', timezone: 'UTC', automated: false, events: [{}] },
    })
    expect(checkBatch({ s: '', v: ID, e: [{}] })).toMatchObject({ ok: false, reason: expect.stringMatching(/"s" \(the site id\)/) })
    expect(checkBatch({ s: 's', v: ID, sw: 1.5, e: [{}] })).toMatchObject({ ok: false, reason: expect.stringMatching(/"sw"/) })
    expect(checkBatch({ s: 's', v: ID, l: 'x'.repeat(65), e: [{}] })).toMatchObject({ ok: false })
  })
})

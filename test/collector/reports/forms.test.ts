import { describe, expect, it } from 'vitest'
import { formsFold } from '../../../collector/reports/forms'
import type { StoredEvent } from '../../../collector/store/types'

type FormEvent = Pick<StoredEvent, 'kind' | 'name' | 'props'>
const ev = (kind: StoredEvent['kind'], name: string | null, props: StoredEvent['props'] = null): FormEvent => ({ kind, name, props })
const view = (form: string) => ev('form_view', form)
const start = (form: string, field = 'email') => ev('form_start', form, { field })
const submit = (form: string, ms?: unknown) => ev('form_submit', form, ms === undefined ? {} : { ms: ms as number })
const abandon = (form: string, field?: string) => ev('form_abandon', form, field ? { field } : {})
const field = (form: string, name: string, props: NonNullable<StoredEvent['props']> = {}) => ev('form_field', form, { field: name, ...props })

function forms(events: FormEvent[]) {
  const fold = formsFold()
  for (const e of events) fold.add(e)
  return fold.result()
}

describe('Form stats', () => {
  it('counts views, starts, submits and abandons per form', () => {
    const [signup] = forms([
      view('signup'), view('signup'), view('signup'),
      start('signup'), start('signup'),
      submit('signup', 40_000),
      abandon('signup'),
    ])
    expect(signup).toEqual({
      form: 'signup', views: 3, starts: 2, submits: 1, abandons: 1,
      abandonmentRate: 0.5, // (2 − 1) ÷ 2
      medianMsToSubmit: 40_000,
      fields: [],
    })
  })

  it('gives the abandonment rate as starts without a submit over starts', () => {
    const [f] = forms([start('f'), start('f'), start('f'), submit('f')])
    expect(f.abandonmentRate).toBe(0.6667) // (3 − 1) ÷ 3, to 4 places
  })

  it('has no abandonment rate for a form never started', () => {
    const [f] = forms([view('f')])
    expect(f.abandonmentRate).toBeNull()
  })

  it('takes the median time to submit over the submits with a positive time, ignoring zero, negative or missing ones', () => {
    const [f] = forms([
      submit('f', 30_000), submit('f', 10_000), submit('f', 20_000),
      submit('f', 0), submit('f', -5), submit('f'), submit('f', 'fast'),
    ])
    expect(f.submits).toBe(7)
    expect(f.medianMsToSubmit).toBe(20_000) // median of 10 000, 20 000, 30 000
  })

  it('interpolates the median time to submit between the two middle values', () => {
    const [f] = forms([submit('f', 10_000), submit('f', 40_000)])
    expect(f.medianMsToSubmit).toBe(25_000)
  })

  it('has no median time to submit without a submit that has a time', () => {
    expect(forms([submit('f'), submit('f', 0)])[0].medianMsToSubmit).toBeNull()
    expect(forms([start('f')])[0].medianMsToSubmit).toBeNull()
  })

  it('measures each field: stays, time, corrections, validation errors and abandons there', () => {
    const [demo] = forms([
      field('demo', 'email', { fieldType: 'email', ms: 4_000, clears: 1 }),
      field('demo', 'email', { ms: 2_000, invalid: 1 }),
      field('demo', 'email', { fieldType: 'email', ms: 9_000, clears: 2, invalid: true }),
      field('demo', 'company', { fieldType: 'text', ms: 5_000 }),
      abandon('demo', 'company'),
      abandon('demo', 'company'),
      abandon('demo', 'email'),
      abandon('demo'), // no last field: counts for the form only
    ])
    expect(demo.abandons).toBe(4)
    expect(demo.fields).toEqual([
      // Most abandoned first.
      { field: 'company', fieldType: 'text', interactions: 1, dropOff: 2, totalMs: 5_000, medianMs: 5_000, corrections: 0, validationErrors: 0 },
      // 4 000 + 2 000 + 9 000 = 15 000 ms, median of 2 000, 4 000, 9 000 is 4 000; clears 1 + 2; invalid twice.
      { field: 'email', fieldType: 'email', interactions: 3, dropOff: 1, totalMs: 15_000, medianMs: 4_000, corrections: 3, validationErrors: 2 },
    ])
  })

  it('counts a validation error only when `invalid` is truthy', () => {
    const [f] = forms([
      field('f', 'phone', { ms: 1_000, invalid: 0 }),
      field('f', 'phone', { ms: 1_000, invalid: false }),
      field('f', 'phone', { ms: 1_000 }),
      field('f', 'phone', { ms: 1_000, invalid: 1 }),
    ])
    expect(f.fields[0].validationErrors).toBe(1)
  })

  it('takes a field’s type from the first stay that gives one', () => {
    const [f] = forms([field('f', 'size', { ms: 1 }), field('f', 'size', { fieldType: 'select', ms: 1 }), field('f', 'size', { fieldType: 'radio', ms: 1 })])
    expect(f.fields[0].fieldType).toBe('select')
  })

  it('lists a field only abandoned at, with no stays, as such', () => {
    const [f] = forms([abandon('f', 'message')])
    expect(f.fields).toEqual([
      { field: 'message', fieldType: null, interactions: 0, dropOff: 1, totalMs: 0, medianMs: null, corrections: 0, validationErrors: 0 },
    ])
  })

  it('sorts fields by abandons, then stays, then name', () => {
    const [f] = forms([
      field('f', 'a', { ms: 1 }),
      field('f', 'b', { ms: 1 }), field('f', 'b', { ms: 1 }),
      abandon('f', 'c'),
      field('f', 'd', { ms: 1 }),
    ])
    // c: 1 abandon; b: 2 stays; a and d: 1 stay each, by name.
    expect(f.fields.map((x) => x.field)).toEqual(['c', 'b', 'a', 'd'])
  })

  it('sorts forms by starts, then views, then name', () => {
    const result = forms([
      ...Array(5).fill(view('newsletter')), start('newsletter'),
      view('demo'), start('demo'), start('demo'),
      ...Array(5).fill(view('contact')), start('contact'),
      view('zeta'), view('zeta'), start('zeta'),
    ])
    // demo: 2 starts; contact and newsletter: 1 start, 5 views, by name; zeta: 1 start, 2 views.
    expect(result.map((f) => f.form)).toEqual(['demo', 'contact', 'newsletter', 'zeta'])
  })

  it('ignores events that are not form events, and form events without a form key', () => {
    expect(forms([ev('pageview', null), ev('track', 'form_submit'), ev('identify', 'a@b.example'), ev('form_submit', null, { ms: 5 })])).toEqual([])
  })
})

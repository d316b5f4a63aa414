import type { KindCode, Properties } from '../shared/wire'
import { here } from './location'
import type { Enqueue } from './transport'

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement

interface FormState {
  key_: string
  /** The page the form was used on (an in-app move changes location before the form is left). */
  url_: string
  started_?: number
  /** The last field touched. */
  last_?: string
  done_?: boolean
}

/** One stay in one field: time, changes, clears, and whether the browser called it invalid. */
interface Stay {
  el_: Field
  state_: FormState
  key_: string
  at_: number
  changes_: number
  clears_: number
  invalid_?: 1
}

const IGNORE = 'data-waymark-ignore'
const PAYMENT = /card|cc-|cvv|cvc|csc|iban|security.?code|expir/i
/** The fields an opted-in form may be read for, by what their autocomplete, name or type says. */
const IDENTITY_FIELDS: [string, RegExp][] = [
  ['email', /e-?mail/],
  ['firstName', /given-name|first.?name|fname/],
  ['lastName', /family-name|last.?name|lname|surname/],
  ['title', /organization-title|job|title|position|role/],
  ['company', /organization|company/],
  ['name', /\b(full.?)?name\b/],
]
const attr = (el: Element, name: string) => el.getAttribute(name) || ''

/**
 * Form analytics with no set-up: form_view, form_start, form_field (one stay in one field),
 * form_submit and form_abandon, for every form including ones an app adds later. Listeners are
 * delegated to the document, passive, and do no layout work. No field value is read, except by
 * an opted-in form on submit: its email, names, company and job title, for identify.
 * Returns what to do when the visitor leaves: forms started and not submitted are abandoned.
 */
export const forms = (enqueue: Enqueue, identifyAll: boolean, identify: (email: string, traits: Properties) => void) => {
  let states = new WeakMap<HTMLFormElement, FormState>()
  let started: FormState[] = []
  let focus: Stay | undefined

  const stateOf = (form: HTMLFormElement) => {
    if (form.hasAttribute(IGNORE)) return
    let state = states.get(form)
    if (!state) {
      const action = attr(form, 'action')
      // The form's own attributes: form.id would be a field named "id" instead.
      const key =
        attr(form, 'id') ||
        attr(form, 'name') ||
        (action && new URL(action, location.href).pathname) ||
        'form' + [].indexOf.call(document.forms, form as never)
      states.set(form, (state = { key_: key, url_: here() }))
    }
    return state
  }

  /** A field we may look at. Passwords, hidden, payment and ignored fields are not read at all. */
  const fieldOf = (target: EventTarget | null) => {
    const el = target as Field
    if (
      !/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) ||
      /^(password|hidden|submit|button|reset|image)$/.test(el.type) ||
      PAYMENT.test(attr(el, 'autocomplete') + attr(el, 'name') + attr(el, 'id')) ||
      el.closest('[' + IGNORE + ']')
    )
      return
    const state = el.form && stateOf(el.form)
    return state && ([el, state] as const)
  }

  const send = (k: KindCode, state: FormState, p?: Properties) => enqueue({ k, n: state.key_, u: state.url_, p })

  const begin = (el: Field, state: FormState): Stay => {
    if (!state.started_) {
      state.started_ = Date.now()
      started.push(state)
    }
    const key = attr(el, 'name') || attr(el, 'id') || el.type + [].indexOf.call(el.form!.elements, el as never)
    if (!state.last_) send('fs', state, { f: key })
    state.last_ = key
    return { el_: el, state_: state, key_: key, at_: Date.now(), changes_: 0, clears_: 0 }
  }

  const report = (stay: Stay) =>
    send('ff', stay.state_, {
      f: stay.key_,
      y: stay.el_.type,
      ms: Date.now() - stay.at_,
      c: stay.changes_,
      x: stay.clears_,
      i: stay.invalid_,
    })

  const end = () => {
    focus && report(focus)
    focus = undefined
  }

  const on = (type: string, listener: (event: Event) => void) =>
    document.addEventListener(type, listener, { capture: true, passive: true })

  on('focusin', (event) => {
    const field = fieldOf(event.target)
    end()
    if (field) focus = begin(...field)
  })
  on('focusout', end)
  // Autofill and scripts change fields without focusing them: a stay of no time, beside the one in focus.
  const touch = (event: Event, invalid?: boolean) => {
    const field = fieldOf(event.target)
    if (!field) return
    const inFocus = focus && focus.el_ == field[0]
    const stay = inFocus ? focus! : begin(...field)
    if (invalid) stay.invalid_ = 1
    else {
      stay.changes_++
      if (!field[0].value) stay.clears_++
    }
    inFocus || report(stay)
  }
  on('input', touch)
  on('invalid', (event) => touch(event, true))

  on('submit', (event) => {
    const form = event.target as HTMLFormElement
    const state = stateOf(form)
    if (!state) return
    end()
    state.done_ = true
    send('fu', state, { f: state.last_, ms: state.started_ && Date.now() - state.started_ })
    if (identifyAll || form.hasAttribute('data-waymark-identify')) {
      // Only fields that say what they are, and only these kinds, are read.
      const traits: Record<string, string> = {}
      ;[].forEach.call(form.elements, (el: Field) => {
        if (!fieldOf(el)) return
        const hint = [attr(el, 'autocomplete'), attr(el, 'name'), attr(el, 'id'), el.type].join(' ').toLowerCase()
        const match = IDENTITY_FIELDS.find(([, pattern]) => pattern.test(hint))
        const value = match && el.value.trim()
        if (value) traits[match[0]] = value
      })
      const { email, ...rest } = traits
      if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) identify(email, rest)
    }
  })

  // form_view: once a form is half on screen. IntersectionObserver does no layout work on our
  // side; a MutationObserver finds forms an app adds later.
  const seen = new WeakSet<Element>()
  const observer = new IntersectionObserver(
    (entries) =>
      entries.forEach((entry) => {
        const state = entry.isIntersecting && stateOf(entry.target as HTMLFormElement)
        if (state) {
          observer.unobserve(entry.target)
          send('fv', state)
        }
      }),
    { threshold: 0.5 },
  )
  const scan = () =>
    [].forEach.call(document.forms, (form: HTMLFormElement) => {
      seen.has(form) || observer.observe(form)
      seen.add(form)
    })
  scan()
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true })

  return () => {
    end()
    started.forEach((state) => state.done_ || send('fa', state, { f: state.last_, ms: Date.now() - state.started_! }))
    started = []
    states = new WeakMap()
  }
}

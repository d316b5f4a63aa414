import type { Properties } from '../shared/wire'
import type { Enqueue } from './transport'

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement

interface FormState {
  key: string
  /** The page the form was used on (an in-app move changes location before the form is left). */
  u: string
  started?: number
  /** The last field touched. */
  last?: string
  done?: boolean
}

/** One stay in one field: time, changes, clears, and whether the browser called it invalid. */
interface Focus {
  el: Field
  state: FormState
  key: string
  at: number
  c: number
  x: number
  i?: 1
}

const IGNORE = 'data-waymark-ignore'
const PAYMENT = /card|cc-|cvv|cvc|csc|iban|security.?code|expir/i
const attr = (el: Element, name: string) => el.getAttribute(name) || ''

/**
 * Form analytics with no set-up: form_view, form_start, form_field (one stay in one field),
 * form_submit and form_abandon, for every form including ones an app adds later. Listeners are
 * delegated to the document, passive, and do no layout work. No field value is read, except by
 * an opted-in form on submit: its email, name, company and job title, for identify.
 */
export const forms = (
  enqueue: Enqueue,
  identifyAll: boolean,
  identify: (email: string, traits: Properties) => void,
) => {
  let states = new WeakMap<HTMLFormElement, FormState>()
  let started: FormState[] = []
  let focus: Focus | undefined

  const stateOf = (form: HTMLFormElement) => {
    if (form.hasAttribute(IGNORE)) return
    let state = states.get(form)
    if (!state) {
      const action = attr(form, 'action')
      states.set(
        form,
        (state = {
          key:
            attr(form, 'id') ||
            attr(form, 'name') ||
            (action && new URL(action, location.href).pathname) ||
            'form' + [].indexOf.call(document.forms, form as never),
          u: location.href.split('#')[0],
        }),
      )
    }
    return state
  }

  /** A field we may look at: never passwords, hidden, payment or ignored fields, which are not read at all. */
  const fieldOf = (target: EventTarget | null) => {
    const el = target as Field
    if (
      !el ||
      !/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) ||
      /^(password|hidden|submit|button|reset|image)$/.test(el.type) ||
      PAYMENT.test(attr(el, 'autocomplete') + attr(el, 'name') + attr(el, 'id')) ||
      el.closest('[' + IGNORE + ']')
    )
      return
    const state = el.form && stateOf(el.form)
    return state && ([el, state] as const)
  }

  const send = (kind: 'form_start' | 'form_field' | 'form_submit' | 'form_abandon' | 'form_view', state: FormState, p?: Properties) =>
    enqueue({ k: kind, n: state.key, u: state.u, p })

  const begin = (el: Field, state: FormState): Focus => {
    if (!state.started) {
      state.started = Date.now()
      started.push(state)
    }
    const key = attr(el, 'name') || attr(el, 'id') || el.type + [].indexOf.call(el.form!.elements, el as never)
    if (!state.last) send('form_start', state, { f: key })
    state.last = key
    return { el, state, key, at: Date.now(), c: 0, x: 0 }
  }

  const report = ({ state, key, el, at, c, x, i }: Focus) =>
    send('form_field', state, { f: key, y: el.type, ms: Date.now() - at, c, x, i })

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
    const inFocus = focus && focus.el == field[0]
    const stay = inFocus ? focus! : begin(...field)
    if (invalid) stay.i = 1
    else {
      stay.c++
      if (!field[0].value) stay.x++
    }
    inFocus || report(stay)
  }
  on('input', (event) => touch(event))
  on('invalid', (event) => touch(event, true))

  on('submit', (event) => {
    const form = event.target as HTMLFormElement
    const state = stateOf(form)
    if (!state) return
    end()
    state.done = true
    send('form_submit', state, { f: state.last, ms: state.started && Date.now() - state.started })
    if (identifyAll || form.hasAttribute('data-waymark-identify')) identifyFrom(form)
  })

  // Only the fields that say what they are are read, and only these five kinds of them.
  const identifyFrom = (form: HTMLFormElement) => {
    const traits: Record<string, string> = {}
    ;[].forEach.call(form.elements, (el: Field) => {
      if (!fieldOf(el)) return
      const hint = attr(el, 'autocomplete') + ' ' + (attr(el, 'name') || attr(el, 'id')) + ' ' + el.type
      const trait = /e-?mail/i.test(hint)
        ? 'email'
        : /given-name|first.?name|fname/i.test(hint)
          ? 'firstName'
          : /family-name|last.?name|lname|surname/i.test(hint)
            ? 'lastName'
            : /organization-title|job|title|position|role/i.test(hint)
              ? 'title'
              : /organization|company/i.test(hint)
                ? 'company'
                : /^(full.?)?name /i.test(hint.trim() + ' ') || /^name /.test(attr(el, 'autocomplete') + ' ')
                  ? 'name'
                  : ''
      const value = trait && el.value.trim()
      if (value) traits[trait] = value
    })
    const { email, ...rest } = traits
    if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) identify(email, rest)
  }

  // form_view: once a form is at least half on screen. IntersectionObserver does no layout work
  // on our side; a MutationObserver finds forms an app adds later.
  const seen = new WeakSet<Element>()
  const observer =
    typeof IntersectionObserver == 'function' &&
    new IntersectionObserver(
      (entries) =>
        entries.forEach((entry) => {
          if (entry.isIntersecting) {
            observer && observer.unobserve(entry.target)
            const state = stateOf(entry.target as HTMLFormElement)
            state && send('form_view', state)
          }
        }),
      { threshold: 0.5 },
    )
  const scan = () =>
    [].forEach.call(document.forms, (form: HTMLFormElement) => {
      if (seen.has(form)) return
      seen.add(form)
      observer && observer.observe(form)
    })
  scan()
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true })

  /** The visitor hides or leaves the page, or moves in the app: forms started and not submitted are abandoned. */
  return () => {
    end()
    started.forEach((state) => state.done || send('form_abandon', state, { f: state.last, ms: Date.now() - state.started! }))
    started = []
    states = new WeakMap()
  }
}

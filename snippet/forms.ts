import type { KindCode, Properties } from '../shared/wire'
import { isEmail } from './email'
import { here } from './location'
import { safe } from './safe'
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
  abandoned_?: boolean
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
const PAYMENT = /card|cc[-_ ]?(num|exp|csc|cvv|cvc|name|type)|cvv|cvc|csc|ccv|iban|security.?code|expir|exp[-_ ]?(date|month|year|mm|yy)/i
/**
 * The fields an opted-in form is read for: a field whose autocomplete says so, or whose name (or
 * id) is made only of these words and has the key one. "company_phone" or "job_description" are
 * not read; only text and email inputs are.
 */
const IDENTITY_FIELDS: [trait: string, autocomplete: string, key: RegExp, allowed: RegExp][] = [
  ['email', 'email', /^e?mail$|^email/, /^(e|address|work|business|your|user|contact|primary)$/],
  ['firstName', 'given-name', /^(first|fname|given|firstname|forename)$/, /^(name|your)$/],
  ['lastName', 'family-name', /^(last|lname|surname|family|lastname)$/, /^(name|your)$/],
  ['name', 'name', /^(name|fullname)$/, /^(full|your|contact)$/],
  ['company', 'organization', /^(company|organi[sz]ation|org|companyname)$/, /^(name|your)$/],
  ['title', 'organization-title', /^(title|jobtitle|position|role)$/, /^(job|your)$/],
]
const attr = (el: Element, name: string) => el.getAttribute(name) || ''

/**
 * Form analytics with no set-up: form_view, form_start (the first input), form_field (one stay
 * in one field), form_submit and form_abandon, for every form including ones an app adds later.
 * Listeners are delegated to the document, passive, and do no layout work. No field value is
 * read, except by an opted-in form on submit: its email, names, company and job title.
 * Returns what to do when the visitor leaves (`inApp`: moves to another view of a single-page app).
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

  const send = (k: KindCode, state: FormState, p?: Properties) => enqueue({ k, n: state.key_, u: state.url_, p })

  const stay = (el: Field, state: FormState): Stay => ({
    el_: el,
    state_: state,
    key_: attr(el, 'name') || attr(el, 'id') || el.type + [].indexOf.call(el.form!.elements, el as never),
    at_: Date.now(),
    changes_: 0,
    clears_: 0,
  })

  /** A stay is reported once its form has started: focus alone (autofocus, a stray click) is no interaction. */
  const report = (s: Stay) =>
    s.state_.started_ &&
    send('ff', s.state_, { f: s.key_, y: s.el_.type, ms: Date.now() - s.at_, c: s.changes_, x: s.clears_, i: s.invalid_ })

  const end = () => {
    focus && report(focus)
    focus = undefined
  }
  const begin = (target: EventTarget | null) => {
    end()
    const field = fieldOf(target)
    if (field) focus = stay(...field)
  }

  const on = (type: string, listener: (event: Event) => void) =>
    document.addEventListener(type, safe(listener), { capture: true, passive: true })

  on('focusin', (event) => begin(event.target))
  on('focusout', end)
  // A field changed out of focus (autofill, a script) is a stay of no time, beside the one in focus.
  const touch = (event: Event, invalid?: boolean) => {
    const field = fieldOf(event.target)
    if (!field) return
    const [el, state] = field
    const inFocus = focus && focus.el_ == el
    const current = inFocus ? focus! : stay(el, state)
    if (!state.started_) {
      state.started_ = Date.now()
      started.push(state)
      send('fs', state, { f: current.key_ })
    }
    state.last_ = current.key_
    if (invalid) current.invalid_ = 1
    else {
      current.changes_++
      if (!el.value) current.clears_++
    }
    inFocus || report(current)
  }
  on('input', touch)
  on('invalid', (event) => touch(event, true))

  on('submit', (event) => {
    const form = event.target as HTMLFormElement
    const state = stateOf(form)
    if (!state || state.done_) return
    end()
    state.done_ = true
    send('fu', state, { f: state.last_, ms: state.started_ && Date.now() - state.started_ })
    if (identifyAll || form.hasAttribute('data-waymark-identify')) {
      const traits: Record<string, string> = {}
      ;[].forEach.call(form.elements, (el: HTMLInputElement) => {
        if (el.tagName != 'INPUT' || !/^(text|email)$/.test(el.type) || !fieldOf(el)) return
        const words = (attr(el, 'name') || attr(el, 'id')).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z]+/).filter(Boolean)
        const auto = attr(el, 'autocomplete').toLowerCase().split(' ').pop()
        const match = IDENTITY_FIELDS.find(
          ([, autocomplete, key, allowed]) =>
            auto == autocomplete || (words.some((w) => key.test(w)) && words.every((w) => key.test(w) || allowed.test(w))),
        )
        const value = match && !traits[match[0]] && el.value.trim()
        if (value) traits[match[0]] = value
      })
      const { email, ...rest } = traits
      isEmail(email) && identify(email, rest)
    }
  })

  // form_view: once half of a form, or half the screen, shows it. IntersectionObserver does no
  // layout work on our side; a MutationObserver finds forms an app adds later.
  const seen = new WeakSet<Element>()
  const observer = new IntersectionObserver(
    (entries) =>
      entries.forEach(
        safe((entry: IntersectionObserverEntry) => {
          const state = stateOf(entry.target as HTMLFormElement)
          if (state && (entry.intersectionRatio >= 0.5 || entry.intersectionRect.height * 2 >= innerHeight)) {
            observer.unobserve(entry.target)
            send('fv', state)
          }
        }),
      ),
    { threshold: [0, 0.25, 0.5] },
  )
  const scan = () =>
    [].forEach.call(document.forms, (form: HTMLFormElement) => {
      seen.has(form) || observer.observe(form)
      seen.add(form)
    })
  scan()
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true })
  // A field may have focus before the script ran (autofocus, a quick click).
  begin(document.activeElement)

  return (inApp?: boolean) => {
    end()
    started.forEach((state) => {
      if (!state.done_ && !state.abandoned_) send('fa', state, { f: state.last_, ms: Date.now() - state.started_! })
      state.abandoned_ = true
    })
    // Hiding the tab may be followed by a return and a submit; an in-app move is a new view with new forms.
    if (inApp) {
      started = []
      states = new WeakMap()
    }
    begin(document.activeElement)
  }
}

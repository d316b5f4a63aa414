import { afterEach, describe, expect, it } from 'vitest'
import { openPage, sentText, type PageOptions, type SentEvent } from './harness'

type Page = Awaited<ReturnType<typeof openPage>>
let page: Page | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

async function pageWith(html: string, options: PageOptions = {}) {
  page = await openPage(options)
  page.window.document.body.innerHTML = html
  await page.advance(0)
  return page
}

const $ = (selector: string) => page!.window.document.querySelector(selector) as unknown as HTMLInputElement

/** What a person does: focus a field, type (or clear) text keystroke by keystroke, leave. */
async function type(selector: string, text: string, msPerKey = 100) {
  const el = $(selector)
  el.dispatchEvent(new page!.window.FocusEvent('focusin', { bubbles: true }) as unknown as Event)
  for (const char of text) {
    await page!.advance(msPerKey)
    el.value = char === '\b' ? el.value.slice(0, -1) : el.value + char
    el.dispatchEvent(new page!.window.Event('input', { bubbles: true }) as unknown as Event)
  }
}
const leave = (selector: string) =>
  $(selector).dispatchEvent(new page!.window.FocusEvent('focusout', { bubbles: true }) as unknown as Event)
const submit = (selector: string) =>
  $(selector).dispatchEvent(new page!.window.Event('submit', { bubbles: true, cancelable: true }) as unknown as Event)

const formEvents = () => page!.events().filter((event) => event.k.startsWith('form_'))
const kinds = (events: SentEvent[]) => events.map((event) => `${event.k} ${event.n}`)

const DEMO_FORM = `
  <form id="demo" action="/demo-request">
    <input name="email" type="email" autocomplete="email">
    <input name="first_name" autocomplete="given-name">
    <input name="company" autocomplete="organization">
    <input name="phone" type="tel">
    <input name="password" type="password">
    <input name="card" autocomplete="cc-number">
    <input name="notes" data-waymark-ignore>
    <textarea name="message"></textarea>
    <button type="submit">Request a demo</button>
  </form>`

describe('Form interactions', () => {
  it('records the start, each stay in a field, and the submit', async () => {
    await pageWith(DEMO_FORM)
    await type('[name=email]', 'ada@acme.io')
    leave('[name=email]')
    await type('[name=first_name]', 'Ada')
    await page!.advance(500)
    leave('[name=first_name]')
    submit('#demo')
    await page!.advance(1000)
    expect(kinds(formEvents())).toEqual([
      'form_start demo',
      'form_field demo',
      'form_field demo',
      'form_submit demo',
    ])
    const [start, email, name, done] = formEvents()
    expect(start.p).toEqual({ f: 'email' })
    // Time in a field runs from its focus; the form's time from its first input.
    expect(email.p).toEqual({ f: 'email', y: 'email', ms: 1100, c: 11, x: 0 })
    expect(name.p).toEqual({ f: 'first_name', y: 'text', ms: 800, c: 3, x: 0 })
    expect(done.p).toEqual({ f: 'first_name', ms: 1800 })
  })

  it('counts corrections and clears', async () => {
    await pageWith(DEMO_FORM)
    await type('[name=company]', 'Acm\b\b\b')
    leave('[name=company]')
    await page!.advance(1000)
    expect(formEvents()[1].p).toMatchObject({ f: 'company', c: 6, x: 1 })
  })

  it('records that the browser reported a field invalid', async () => {
    await pageWith(DEMO_FORM)
    $('[name=email]').dispatchEvent(new page!.window.Event('invalid') as unknown as Event)
    await page!.advance(1000)
    expect(formEvents().map((event) => [event.k, event.p])).toEqual([
      ['form_start', { f: 'email' }],
      ['form_field', { f: 'email', y: 'email', ms: 0, c: 0, x: 0, i: 1 }],
    ])
  })

  it('counts a field changed without focus (autofill) as a stay of no time', async () => {
    await pageWith(DEMO_FORM)
    const el = $('[name=company]')
    el.value = 'Acme'
    el.dispatchEvent(new page!.window.Event('input', { bubbles: true }) as unknown as Event)
    await page!.advance(1000)
    expect(formEvents()[1].p).toEqual({ f: 'company', y: 'text', ms: 0, c: 1, x: 0 })
  })

  it('records an abandonment when the visitor leaves a started form, with the last field touched', async () => {
    await pageWith(DEMO_FORM)
    await type('[name=email]', 'a')
    leave('[name=email]')
    await type('[name=company]', 'Acme')
    await page!.hide()
    const abandon = formEvents().find((event) => event.k === 'form_abandon')!
    expect(abandon).toMatchObject({ n: 'demo', p: { f: 'company', ms: 400 } })
    // The field still in focus was closed first, so its time counts.
    expect(formEvents().filter((event) => event.k === 'form_field')).toHaveLength(2)
    expect(page!.sent.at(-1)!.via).toBe('beacon')
  })

  it('records an abandonment when the visitor moves on in a single-page app', async () => {
    page = await openPage({ url: 'https://www.example.com/contact' })
    page.window.document.body.innerHTML = DEMO_FORM
    await type('[name=email]', 'a')
    page.window.history.pushState({}, '', '/thanks-for-nothing')
    await page.advance(1000)
    const abandon = formEvents().find((event) => event.k === 'form_abandon')!
    expect(abandon.u).toBe('https://www.example.com/contact')
    const view = page.events().findLast((event) => event.k === 'pageview')!
    expect(view.u).toBe('https://www.example.com/thanks-for-nothing')
  })

  it('does not call a submitted form abandoned', async () => {
    await pageWith(DEMO_FORM)
    await type('[name=email]', 'a')
    submit('#demo')
    await page!.hide()
    expect(formEvents().map((event) => event.k)).not.toContain('form_abandon')
  })

  it('does not call a form abandoned that was never started', async () => {
    await pageWith(DEMO_FORM)
    await page!.hide()
    expect(formEvents()).toEqual([])
  })

  it('tracks forms an app adds later, with no set-up', async () => {
    await pageWith('<div id="app"></div>')
    await page!.advance(5000)
    $('#app').innerHTML = '<form name="newsletter"><input name="email" type="email"></form>'
    await type('[name=email]', 'x')
    leave('[name=email]')
    await page!.advance(1000)
    expect(kinds(formEvents())).toEqual(['form_start newsletter', 'form_field newsletter'])
  })

  it.each([
    ['the id', '<form id="signup" name="n" action="/a"><input name="q"></form>', 'signup'],
    ['the name', '<form name="trial" action="/a"><input name="q"></form>', 'trial'],
    ['the action path', '<form action="https://www.example.com/subscribe?x=1"><input name="q"></form>', '/subscribe'],
    ['the position on the page', '<form><input></form><form><input name="q"></form>', 'form1'],
  ])('keys a form by %s, the same on every visit', async (_, html, key) => {
    await pageWith(html)
    await type('[name=q]', 'x')
    await page!.advance(1000)
    expect(formEvents()[0].n).toBe(key)
  })

  it('is not fooled by a field named "id" or "name" (the form keeps its own attributes)', async () => {
    await pageWith('<form id="real"><input name="id"><input name="name"></form>')
    await type('[name=id]', 'x')
    await page!.advance(1000)
    expect(formEvents()[0].n).toBe('real')
  })

  it('keys a field by name, then id, then type and position', async () => {
    await pageWith('<form id="f"><input id="by-id"><input type="email"><select name="size"><option>1</option></select></form>')
    for (const selector of ['#by-id', '[type=email]', 'select']) {
      await type(selector, 'x')
      leave(selector)
    }
    await page!.advance(1000)
    expect(formEvents().filter((e) => e.k === 'form_field').map((e) => [e.p!.f, e.p!.y])).toEqual([
      ['by-id', 'text'],
      ['email1', 'email'],
      ['size', 'select-one'],
    ])
  })

  it('turns tracking off for a form marked data-waymark-ignore', async () => {
    await pageWith('<form id="private" data-waymark-ignore><input name="q"></form>')
    await type('[name=q]', 'secret')
    leave('[name=q]')
    submit('#private')
    await page!.hide()
    expect(formEvents()).toEqual([])
  })
})

describe('Privacy of form fields', () => {
  it('never reads passwords, payment fields or ignored fields, and sends no typed value at all', async () => {
    await pageWith(DEMO_FORM)
    const reads: string[] = []
    for (const name of ['password', 'card', 'notes']) {
      const el = $(`[name=${name}]`)
      Object.defineProperty(el, 'value', {
        get: () => {
          reads.push(name)
          return `secret-${name}`
        },
        set: () => {},
      })
    }
    for (const name of ['password', 'card', 'notes']) {
      $(`[name=${name}]`).dispatchEvent(new page!.window.FocusEvent('focusin', { bubbles: true }) as unknown as Event)
      $(`[name=${name}]`).dispatchEvent(new page!.window.Event('input', { bubbles: true }) as unknown as Event)
      leave(`[name=${name}]`)
    }
    await type('[name=message]', 'my budget is 50k')
    await type('[name=phone]', '+44 20 7946 0000')
    submit('#demo')
    await page!.hide()
    expect(reads).toEqual([])
    const payloads = sentText(page!.sent)
    for (const secret of ['secret-', 'budget', '7946'])
      expect(payloads).not.toContain(secret)
    const fields = formEvents().filter((e) => e.k === 'form_field').map((e) => e.p!.f)
    expect(fields).toEqual(['message', 'phone'])
  })
})

describe('Identify from forms', () => {
  const OPTED_IN = DEMO_FORM.replace('<form id="demo"', '<form id="demo" data-waymark-identify')

  it('sends, on submit of an opted-in form, the email with name, company and job title', async () => {
    await pageWith(OPTED_IN.replace('</form>', '<input name="job_title" value="CTO"></form>'))
    await type('[name=email]', 'ada@acme.io')
    await type('[name=first_name]', 'Ada')
    await type('[name=company]', 'Acme')
    await type('[name=phone]', '+44 20 7946 0000')
    await type('[name=password]', 'hunter2')
    await type('[name=message]', 'call me')
    submit('#demo')
    await page!.advance(1000)
    const identify = page!.events().find((event) => event.k === 'identify')!
    expect(identify).toMatchObject({ n: 'ada@acme.io', p: { firstName: 'Ada', company: 'Acme', title: 'CTO' } })
    const payloads = sentText(page!.sent)
    for (const secret of ['hunter2', '7946', 'call me']) expect(payloads).not.toContain(secret)
  })

  it.each([
    ['<input name="Full_Name">', 'name'],
    ['<input name="name">', 'name'],
    ['<input id="surname">', 'lastName'],
    ['<input name="job_title">', 'title'],
    ['<input autocomplete="organization" name="company_name">', 'company'],
  ])('knows %s as %s', async (html, trait) => {
    await pageWith(`<form id="f" data-waymark-identify><input name="email" type="email">${html}</form>`)
    await type('[name=email]', 'x@y.example')
    await type('#f > :last-child', 'Value')
    submit('#f')
    await page!.advance(1000)
    const identify = page!.events().find((event) => event.k === 'identify')!
    expect(identify.p).toEqual({ [trait]: 'Value' })
  })

  it('finds the email field by its name when autocomplete is off', async () => {
    await pageWith('<form id="f" data-waymark-identify><input name="email" autocomplete="off"></form>')
    await type('[name=email]', 'lin@lin.example')
    submit('#f')
    await page!.advance(1000)
    expect(page!.events().find((event) => event.k === 'identify')?.n).toBe('lin@lin.example')
  })

  it('reads nothing from a form that did not opt in', async () => {
    await pageWith(DEMO_FORM)
    await type('[name=email]', 'ada@acme.io')
    submit('#demo')
    await page!.advance(1000)
    expect(JSON.stringify(page!.sent)).not.toContain('ada@acme.io')
  })

  it('identifies from every form when the tag has data-identify-forms', async () => {
    await pageWith(DEMO_FORM, { attributes: { 'data-identify-forms': '' } })
    await type('[name=email]', 'grace@navy.example')
    submit('#demo')
    await page!.advance(1000)
    expect(page!.events().find((event) => event.k === 'identify')?.n).toBe('grace@navy.example')
  })

  it('sends no identify when the email is not an email', async () => {
    await pageWith(OPTED_IN)
    await type('[name=email]', 'not an email')
    submit('#demo')
    await page!.advance(1000)
    expect(page!.events().map((event) => event.k)).not.toContain('identify')
  })
})

describe('What an opted-in form is not read for', () => {
  it.each([
    ['a free-text field whose name mentions a job', '<textarea name="job_description"></textarea>'],
    ['a phone field whose name mentions the company', '<input name="company_phone">'],
    ['a select of company size', '<select name="company_size"><option>51-200</option></select>'],
    ['a colleague\'s email', '<input type="email" name="colleague_email">'],
  ])('%s', async (_, html) => {
    await pageWith(`<form id="f" data-waymark-identify><input name="email" type="email">${html}</form>`)
    await type('[name=email]', 'me@acme.example')
    const last = page!.window.document.querySelector('#f > :last-child') as unknown as HTMLInputElement
    last.value = last.tagName === 'SELECT' ? last.value : 'SECRET-VALUE'
    submit('#f')
    await page!.advance(1000)
    const identify = page!.events().find((event) => event.k === 'identify')!
    expect(identify.n).toBe('me@acme.example')
    expect(JSON.stringify(page!.sent)).not.toMatch(/SECRET-VALUE|51-200/)
  })

  it('takes the first email field, and ignores an opt-in checkbox', async () => {
    await pageWith(`<form id="f" data-waymark-identify>
      <input name="email" type="email"><input type="checkbox" name="email_opt_in" checked><input name="work_email"></form>`)
    await type('[name=email]', 'first@acme.example')
    await type('[name=work_email]', 'second@acme.example')
    submit('#f')
    await page!.advance(1000)
    expect(page!.events().filter((event) => event.k === 'identify').map((event) => event.n)).toEqual(['first@acme.example'])
  })

  it('identifies once per form, even if it is submitted twice', async () => {
    await pageWith(DEMO_FORM.replace('<form id="demo"', '<form id="demo" data-waymark-identify'))
    await type('[name=email]', 'ada@acme.io')
    submit('#demo')
    submit('#demo')
    await page!.advance(1000)
    expect(page!.events().filter((event) => event.k === 'identify')).toHaveLength(1)
    expect(page!.events().filter((event) => event.k === 'form_submit')).toHaveLength(1)
  })
})

describe('Form interactions, the hard cases', () => {
  it('does not start a form on focus alone (autofocus, a stray click)', async () => {
    await pageWith(DEMO_FORM)
    $('[name=email]').dispatchEvent(new page!.window.FocusEvent('focusin', { bubbles: true }) as unknown as Event)
    await page!.advance(3000)
    leave('[name=email]')
    await page!.hide()
    expect(formEvents()).toEqual([])
  })

  it('measures a field that had focus before the tag loaded', async () => {
    page = await openPage({
      before: `document.body.innerHTML = '<form id="early"><input name="q"></form>'; document.querySelector('[name=q]').focus()`,
    })
    await page.advance(2000)
    const el = $('[name=q]')
    el.value = 'x'
    el.dispatchEvent(new page.window.Event('input', { bubbles: true }) as unknown as Event)
    leave('[name=q]')
    await page.advance(1000)
    expect(formEvents().map((event) => [event.k, event.p])).toEqual([
      ['form_start', { f: 'q' }],
      ['form_field', { f: 'q', y: 'text', ms: 2000, c: 1, x: 0 }],
    ])
  })

  it('reports one abandonment for a tab hidden and shown again, and the submit that follows', async () => {
    await pageWith(DEMO_FORM)
    await type('[name=email]', 'a')
    await page!.hide()
    await page!.hide()
    await type('[name=email]', 'b')
    submit('#demo')
    await page!.advance(1000)
    expect(formEvents().map((event) => event.k).filter((k) => k !== 'form_field')).toEqual(['form_start', 'form_abandon', 'form_submit'])
  })

  it('treats card numbers and expiry dates under other names as payment fields, never read', async () => {
    await pageWith('<form id="pay"><input name="cc_number"><input name="ccnum"><input name="exp_date"><input name="ccv"></form>')
    const reads: string[] = []
    for (const name of ['cc_number', 'ccnum', 'exp_date', 'ccv']) {
      const el = $(`[name=${name}]`)
      Object.defineProperty(el, 'value', { get: () => (reads.push(name), '4111'), set: () => {} })
      el.dispatchEvent(new page!.window.Event('input', { bubbles: true }) as unknown as Event)
    }
    await page!.hide()
    expect(reads).toEqual([])
    expect(formEvents()).toEqual([])
  })

  it('survives a form whose action is not a URL, and the page keeps working', async () => {
    await pageWith('<form action="http://a b/"><input name="q"></form>')
    await type('[name=q]', 'x')
    page!.window.history.pushState({}, '', '/next')
    await page!.advance(1000)
    expect(page!.events().filter((event) => event.k === 'pageview')).toHaveLength(2)
  })
})

describe('form_view', () => {
  /** An IntersectionObserver the test drives, as the browser would when the visitor scrolls. */
  const OBSERVER = `window.__observers = []; window.innerHeight = 800; window.IntersectionObserver = class {
    constructor(callback) { this.callback = callback; this.targets = new Set(); __observers.push(this) }
    observe(el) { this.targets.add(el) } unobserve(el) { this.targets.delete(el) } disconnect() {}
  }`
  const scroll = (selector: string, ratio: number, height: number) =>
    page!.window.eval(`for (const o of __observers) { const el = document.querySelector('${selector}');
      if (o.targets.has(el)) o.callback([{ target: el, isIntersecting: ${ratio > 0}, intersectionRatio: ${ratio}, intersectionRect: { height: ${height} } }]) }`)

  it('is recorded once, when half the form shows', async () => {
    page = await openPage({ before: `${OBSERVER}; document.body.innerHTML = '<form id="short"><input></form>'` })
    scroll('#short', 0.1, 30)
    await page.advance(1000)
    expect(formEvents()).toEqual([])
    scroll('#short', 0.6, 180)
    scroll('#short', 1, 300)
    await page.advance(1000)
    expect(kinds(formEvents())).toEqual(['form_view short'])
  })

  it('is recorded for a form taller than the screen once it fills half of it', async () => {
    page = await openPage({ before: `${OBSERVER}; document.body.innerHTML = '<form id="tall"><input></form>'` })
    scroll('#tall', 0.3, 450)
    await page.advance(1000)
    expect(kinds(formEvents())).toEqual(['form_view tall'])
  })

  it('watches forms an app adds later', async () => {
    page = await openPage({ before: OBSERVER })
    page.window.document.body.innerHTML = '<form name="late"><input></form>'
    await page.advance(0)
    scroll('[name=late]', 1, 200)
    await page.advance(1000)
    expect(kinds(formEvents())).toEqual(['form_view late'])
  })
})

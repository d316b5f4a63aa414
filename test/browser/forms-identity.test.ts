import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { page, snippetLoaded, trackedSite } from './site'

let site: Awaited<ReturnType<typeof trackedSite>>
beforeAll(async () => {
  site = await trackedSite((tag) => ({
    '/': page(tag, 'Home', '<a id="next" href="/product">Product</a>'),
    '/product': page(tag, 'Product', '<a id="next" href="/demo">Book a demo</a>'),
    '/demo': page(
      tag,
      'Request a demo',
      `<form id="demo-request" method="post" action="/thanks" data-waymark-identify>
        <label>Work email <input name="email" type="email" autocomplete="email" required></label>
        <label>First name <input name="first_name" autocomplete="given-name"></label>
        <label>Company <input name="company" autocomplete="organization"></label>
        <label>Phone <input name="phone" type="tel" autocomplete="tel"></label>
        <label>Password <input name="password" type="password" autocomplete="new-password"></label>
        <button type="submit">Request a demo</button>
      </form>`,
    ),
    '/thanks': page(tag, 'Thanks', '<p>We will be in touch.</p>'),
  }))
})
afterAll(() => site?.close())

const EMAIL = 'ada.lovelace@analytical-engines.example'
const PASSWORD = 'Correct-Horse-7731'
const PHONE = '+44 20 7946 0813'

describe('From anonymous visitor to known lead, in a real browser', () => {
  it('a demo request identifies the person and their company, with their history, and keeps no secret', async () => {
    const context = await site.browser.newContext()
    const tab = await context.newPage()
    await tab.goto(`${site.url}/`)
    await tab.waitForFunction(snippetLoaded)
    await tab.click('#next')
    await tab.waitForURL(`${site.url}/product`)
    await tab.waitForFunction(snippetLoaded)
    await tab.click('#next')
    await tab.waitForURL(`${site.url}/demo`)
    await tab.waitForFunction(snippetLoaded)

    await tab.type('[name=email]', EMAIL, { delay: 10 })
    await tab.type('[name=first_name]', 'Ada', { delay: 10 })
    await tab.type('[name=company]', 'Analytical Engines', { delay: 10 })
    await tab.type('[name=phone]', PHONE, { delay: 10 })
    await tab.type('[name=password]', PASSWORD, { delay: 10 })
    await tab.click('button[type=submit]')
    await tab.waitForURL(`${site.url}/thanks`)
    await tab.waitForFunction(snippetLoaded)
    await tab.goto('about:blank')

    const [person] = await site.waitFor<{ id: string; email: string; company_id: string }>(
      1,
      'SELECT * FROM people WHERE email = ?',
      EMAIL,
    )
    expect(person).toBeDefined()
    const [company] = site.query<{ domain: string }>('SELECT * FROM companies WHERE id = ?', person.company_id)
    expect(company.domain).toBe('analytical-engines.example')
    const traits = Object.fromEntries(
      site.query<{ key: string; value: string }>('SELECT key, value FROM traits WHERE subject_id = ?', person.id).map((t) => [t.key, JSON.parse(t.value)]),
    )
    expect(traits).toEqual({ firstName: 'Ada', company: 'Analytical Engines' })

    // The pages read anonymously before the form are the person's history now.
    const history = await site.waitFor<{ kind: string; path: string; name: string | null; props: string | null }>(
      4,
      `SELECT kind, path, name, props FROM events WHERE kind = 'pageview' AND visitor_id IN
       (SELECT visitor_id FROM identities WHERE person_id = ?) ORDER BY occurred_at`,
      person.id,
    )
    expect(history.map((e) => e.path)).toEqual(['/', '/product', '/demo', '/thanks'])

    const forms = await site.waitFor<{ kind: string; name: string; props: string | null }>(
      6,
      `SELECT kind, name, props FROM events WHERE kind LIKE 'form_%' ORDER BY occurred_at, id`,
    )
    const fields = forms.filter((e) => e.kind === 'form_field').map((e) => JSON.parse(e.props!))
    expect(fields.map((f) => f.field)).toEqual(['email', 'first_name', 'company', 'phone'])
    expect(fields[0]).toMatchObject({ fieldType: 'email', changes: EMAIL.length, clears: 0 })
    expect(fields[0].ms).toBeGreaterThan(0)
    expect(forms.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['form_view', 'form_start', 'form_field', 'form_submit']),
    )
    expect(forms.every((e) => e.name === 'demo-request')).toBe(true)
    expect(forms.map((e) => e.kind)).not.toContain('form_abandon')

    // Neither the password nor the phone number reached the database, in any form.
    const bytes = site.databaseBytes()
    expect(bytes).toContain(EMAIL)
    for (const secret of [PASSWORD, PHONE, PHONE.replace(/\s/g, '')])
      expect(bytes).not.toContain(secret)
    await context.close()
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { openPage, sentText, type PageOptions } from './harness'

type Page = Awaited<ReturnType<typeof openPage>>
let page: Page | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

/**
 * A page on https://www.example.com/ with this body. Like a single-page app, it handles links and
 * form submits itself (preventDefault), so happy-dom does not load what they point to; the tag
 * must not care either way.
 */
async function pageWith(html: string, options: PageOptions = {}) {
  page = await openPage(options)
  const { window } = page
  window.document.body.innerHTML = html
  window.addEventListener('click', (event) => (event.target as unknown as Element).closest?.('a') && event.preventDefault())
  window.addEventListener('submit', (event) => event.preventDefault())
  await page.advance(0)
  return page
}

const $ = (selector: string) => {
  const el = page!.window.document.querySelector(selector)
  if (!el) throw new Error(`no element matches ${selector}`)
  return el as unknown as HTMLElement
}
const mouse = (type: string, button: number) =>
  new page!.window.MouseEvent(type, { bubbles: true, cancelable: true, composed: true, button }) as unknown as Event

/** A primary-button click (or Enter on a focused link). */
const click = (selector: string) => $(selector).dispatchEvent(mouse('click', 0))
/** A middle click: browsers fire auxclick, not click, and open the link in a new tab. */
const middleClick = (selector: string) => $(selector).dispatchEvent(mouse('auxclick', 1))
/** A right click: a context menu, and an auxclick with button 2. */
const rightClick = (selector: string) => {
  $(selector).dispatchEvent(mouse('contextmenu', 2))
  $(selector).dispatchEvent(mouse('auxclick', 2))
}

const CLICK_KINDS = ['file_download', 'outbound_click', 'contact_click', 'cta']
/** What the click signals sent, after the batch delay. */
async function signals() {
  await page!.advance(1000)
  return page!.events()
    .filter((event) => CLICK_KINDS.includes(event.k))
    .map((event) => (event.p === undefined ? { k: event.k, n: event.n } : { k: event.k, n: event.n, p: event.p }))
}

describe('File downloads', () => {
  it('records a click on a link to a document as file_download, with the URL (less its query) and the link text', async () => {
    await pageWith('<a id="sheet" href="/files/Pricing-2025.pdf?v=3&token=secret">\n  Pricing sheet (PDF)\n</a>')
    click('#sheet')
    expect(await signals()).toEqual([
      { k: 'file_download', n: 'https://www.example.com/files/Pricing-2025.pdf', p: { x: 'Pricing sheet (PDF)' } },
    ])
  })

  it('knows a document by the extension of its path, in any case, by default pdf, doc(x), xls(x), ppt(x), csv, zip and the like', async () => {
    const files = ['a.pdf', 'b.doc', 'c.docx', 'd.xls', 'e.xlsx', 'f.ppt', 'g.pptx', 'h.csv', 'i.zip', 'j.PDF', 'k.key', 'l.txt']
    await pageWith(files.map((file, i) => `<a id="f${i}" href="/files/${file}">${file}</a>`).join(''))
    files.forEach((_, i) => click(`#f${i}`))
    expect((await signals()).map((event) => [event.k, event.n])).toEqual(
      files.map((file) => ['file_download', `https://www.example.com/files/${file}`]),
    )
  })

  it('does not count a page whose path merely contains an extension, nor one named by a query parameter', async () => {
    await pageWith(`
      <a id="html" href="/guides/report.pdf.html">Report</a>
      <a id="query" href="/download?file=report.pdf">Report</a>
      <a id="dir" href="/pdf/">PDFs</a>`)
    click('#html')
    click('#query')
    click('#dir')
    expect(await signals()).toEqual([])
  })

  it('counts a link with a download attribute, whatever its URL', async () => {
    await pageWith('<a id="export" href="/export?format=json" download="contacts.json">Export contacts</a>')
    click('#export')
    expect(await signals()).toEqual([{ k: 'file_download', n: 'https://www.example.com/export', p: { x: 'Export contacts' } }])
  })

  it('reads nothing inside data-waymark-ignore, such as an account menu with the visitor\'s own address', async () => {
    await pageWith('<nav data-waymark-ignore>Signed in as <a id="me" href="mailto:ada@acme.io">ada@acme.io</a></nav>')
    click('#me')
    expect(await signals()).toEqual([])
  })

  it("never sends an app's own export (a data: or blob: link): it carries the visitor's data", async () => {
    await pageWith('<a id="csv" href="data:text/csv,name%2Cemail%0Aada%2Cada%40acme.io" download="contacts.csv">Export</a>')
    click('#csv')
    expect(await signals()).toEqual([])
  })

  it('takes data-downloads as written: "*.pdf", ".key" or a stray symbol never breaks the tag', async () => {
    await pageWith('<a id="pdf" href="/deck.pdf">Deck</a><a id="key" href="/deck.key">Deck</a><a id="cpp" href="/main.c++">Code</a>', { attributes: { 'data-downloads': '*.pdf .key c++' } })
    click('#pdf')
    click('#key')
    click('#cpp')
    expect((await signals()).map((e) => e.n)).toEqual(['https://www.example.com/deck.pdf', 'https://www.example.com/deck.key', 'https://www.example.com/main.c++'])
    expect(page!.events()[0].k).toBe('pageview')
  })

  it('counts a document on another host as a download, not as an outbound click', async () => {
    await pageWith('<a id="cdn" href="https://cdn.example.net/whitepapers/roi.pdf">ROI whitepaper</a>')
    click('#cdn')
    expect(await signals()).toEqual([{ k: 'file_download', n: 'https://cdn.example.net/whitepapers/roi.pdf', p: { x: 'ROI whitepaper' } }])
  })

  it('data-downloads="pdf key" replaces the list of extensions', async () => {
    await pageWith(
      `<a id="pdf" href="/deck.pdf">Deck</a>
       <a id="key" href="/deck.key">Keynote</a>
       <a id="zip" href="/assets.zip">Assets</a>
       <a id="csv" href="/data.csv">Data</a>`,
      { attributes: { 'data-downloads': 'pdf key' } },
    )
    for (const id of ['#pdf', '#key', '#zip', '#csv']) click(id)
    expect((await signals()).map((event) => event.n)).toEqual(['https://www.example.com/deck.pdf', 'https://www.example.com/deck.key'])
  })

  it('still counts a link with a download attribute when data-downloads leaves its extension out', async () => {
    await pageWith('<a id="zip" href="/assets.zip" download>Assets</a>', { attributes: { 'data-downloads': 'pdf' } })
    click('#zip')
    expect((await signals()).map((event) => event.k)).toEqual(['file_download'])
  })
})

describe('Outbound links', () => {
  it('records a click on a link to another host as outbound_click, with its destination', async () => {
    await pageWith('<a id="partner" href="https://partner.example.org/offer?ref=waymark#terms">Our partner</a>')
    click('#partner')
    // Less its query and fragment: what the destination is, not the state it carries.
    expect(await signals()).toEqual([{ k: 'outbound_click', n: 'https://partner.example.org/offer' }])
  })

  it('counts a subdomain as another host', async () => {
    await pageWith('<a id="app" href="https://app.example.com/login">Log in</a>')
    click('#app')
    expect(await signals()).toEqual([{ k: 'outbound_click', n: 'https://app.example.com/login' }])
  })

  it('does not count links on the same host: relative, absolute, a #fragment or a query', async () => {
    await pageWith(`
      <a id="relative" href="/pricing">Pricing</a>
      <a id="absolute" href="https://www.example.com/about">About</a>
      <a id="fragment" href="#top">Top</a>
      <a id="query" href="?plan=team">Team</a>`)
    for (const id of ['#relative', '#absolute', '#fragment', '#query']) click(id)
    expect(await signals()).toEqual([])
  })

  it('counts only http and https links', async () => {
    await pageWith(`
      <a id="script" href="javascript:void(0)">Menu</a>
      <a id="ftp" href="ftp://files.example.org/pub/">FTP</a>
      <a id="app" href="slack://open">Slack</a>`)
    for (const id of ['#script', '#ftp', '#app']) click(id)
    expect(await signals()).toEqual([])
  })

  it('ignores an <a> with no href', async () => {
    await pageWith('<a id="anchor" name="top">Top</a>')
    click('#anchor')
    expect(await signals()).toEqual([])
  })
})

describe('Contact links', () => {
  it('records a click on a mailto: link as contact_click, with the address', async () => {
    await pageWith('<a id="mail" href="mailto:sales@example.com">Email sales</a>')
    click('#mail')
    expect(await signals()).toEqual([{ k: 'contact_click', n: 'mailto:sales@example.com' }])
  })

  it('records a click on a tel: link as contact_click, with the number', async () => {
    await pageWith('<a id="phone" href="tel:+15551234567">+1 555 123 4567</a>')
    click('#phone')
    expect(await signals()).toEqual([{ k: 'contact_click', n: 'tel:+15551234567' }])
  })

  it('sends a mailto: link with ?subject= and &body= as the address only', async () => {
    await pageWith('<a id="mail" href="mailto:sales@example.com?subject=Quote%20for%20Acme&body=We%20have%2040%20seats">Ask for a quote</a>')
    click('#mail')
    expect(await signals()).toEqual([{ k: 'contact_click', n: 'mailto:sales@example.com' }])
  })

  it('sends nothing the visitor typed: not the form fields, not a mailto: built from them', async () => {
    const typed = {
      name: 'Ada Lovelace',
      email: 'ada.lovelace@analyticalengines.test',
      subject: 'Quote for Analytical Engines Ltd',
      message: 'Please call me about the enterprise plan on 0207 946 0991',
    }
    await pageWith(`
      <form id="contact">
        <input name="name" id="name">
        <input name="email" id="email" type="email" autocomplete="email">
        <input name="subject" id="subject">
        <textarea name="message" id="message"></textarea>
      </form>
      <a id="mail" href="mailto:sales@example.com">Email us instead</a>
      <a id="phone" href="tel:+442079460000">Call us</a>`)
    const { window } = page!
    // The page writes what the visitor typed into its mailto: link, as "email us instead" widgets do.
    const mail = $('#mail') as HTMLAnchorElement
    window.document.addEventListener('input', () => {
      const value = (id: string) => encodeURIComponent(($('#' + id) as HTMLInputElement).value)
      mail.href = `mailto:sales@example.com?subject=${value('subject')}&body=${value('message')}%0A${value('name')}%20${value('email')}`
    })
    for (const [field, text] of Object.entries(typed)) {
      const el = $('#' + field) as HTMLInputElement
      el.dispatchEvent(new window.FocusEvent('focusin', { bubbles: true }) as unknown as Event)
      for (const char of text) {
        el.value += char
        el.dispatchEvent(new window.Event('input', { bubbles: true }) as unknown as Event)
      }
      el.dispatchEvent(new window.FocusEvent('focusout', { bubbles: true }) as unknown as Event)
    }
    expect(mail.href).toContain(encodeURIComponent(typed.subject)) // the link does carry it
    click('#mail')
    click('#phone')
    await page!.advance(1000)
    await page!.hide() // and whatever the features still held leaves with the page

    expect(page!.events().filter((event) => event.k === 'contact_click').map((event) => event.n)).toEqual([
      'mailto:sales@example.com',
      'tel:+442079460000',
    ])
    const bytes = sentText(page!.sent)
    for (const text of Object.values(typed)) {
      for (const form of [text, encodeURIComponent(text), text.replace(/ /g, '+'), JSON.stringify(text).slice(1, -1)]) expect(bytes).not.toContain(form)
      for (const word of text.split(/[\s@.]+/).filter((word) => word.length > 4)) expect(bytes.toLowerCase()).not.toContain(word.toLowerCase())
    }
  })
})

describe('Calls to action', () => {
  it('records a click on an element tagged data-waymark-event as cta, named by it, with its data-waymark-prop-* attributes as properties', async () => {
    await pageWith(
      '<button id="demo" class="btn" data-track="x" data-waymark-event="Book demo" data-waymark-prop-plan="team" data-waymark-prop-placement="hero">Book a demo</button>',
    )
    click('#demo')
    expect(await signals()).toEqual([{ k: 'cta', n: 'Book demo', p: { plan: 'team', placement: 'hero' } }])
  })

  it('counts a click on anything inside the tagged element, once', async () => {
    await pageWith('<button data-waymark-event="Book demo"><span id="label"><svg><path id="icon" d="M0 0"/></svg> Book a <b id="bold">demo</b></span></button>')
    click('#label')
    click('#icon')
    click('#bold')
    expect((await signals()).map((event) => [event.k, event.n])).toEqual([
      ['cta', 'Book demo'],
      ['cta', 'Book demo'],
      ['cta', 'Book demo'],
    ])
  })

  it('names the click by the innermost tagged element', async () => {
    await pageWith('<section data-waymark-event="Pricing card"><button id="team" data-waymark-event="Choose Team">Choose</button></section>')
    click('#team')
    expect((await signals()).map((event) => event.n)).toEqual(['Choose Team'])
  })

  it('counts a tagged link both as a cta and as what the link is', async () => {
    await pageWith('<a id="deck" href="/files/deck.pdf" data-waymark-event="Get the deck" data-waymark-prop-source="footer">Deck</a>')
    click('#deck')
    expect(await signals()).toEqual([
      { k: 'cta', n: 'Get the deck', p: { source: 'footer' } },
      { k: 'file_download', n: 'https://www.example.com/files/deck.pdf', p: { x: 'Deck' } },
    ])
  })

  it('counts a tagged form on submit, not on clicks inside it', async () => {
    await pageWith(`
      <form id="demo" data-waymark-event="Request demo" data-waymark-prop-form="footer">
        <input id="email" name="email" type="email">
        <button id="send" type="submit">Send</button>
      </form>`)
    click('#email')
    click('#demo')
    expect(await signals()).toEqual([])
    click('#send') // submits the form
    expect(await signals()).toEqual([{ k: 'cta', n: 'Request demo', p: { form: 'footer' } }])
    expect(page!.events().filter((event) => event.k === 'form_submit')).toHaveLength(1)
  })

  it('counts a tagged element inside a form on its click, and the untagged form not at all', async () => {
    await pageWith('<form id="f"><button id="go" type="button" data-waymark-event="Check availability">Check</button></form>')
    click('#go')
    ;($('#f') as HTMLFormElement).requestSubmit()
    expect((await signals()).map((event) => event.n)).toEqual(['Check availability'])
  })
})

describe('Which clicks count', () => {
  it('counts a middle click (auxclick, button 1), which opens a link in a new tab', async () => {
    await pageWith(`
      <a id="partner" href="https://partner.example.org/">Partner</a>
      <a id="deck" href="/deck.pdf">Deck</a>
      <button id="demo" data-waymark-event="Book demo">Book</button>`)
    middleClick('#partner')
    middleClick('#deck')
    middleClick('#demo')
    expect((await signals()).map((event) => event.k)).toEqual(['outbound_click', 'file_download', 'cta'])
  })

  it('ignores a right click', async () => {
    await pageWith(`
      <a id="partner" href="https://partner.example.org/">Partner</a>
      <a id="mail" href="mailto:sales@example.com">Mail</a>
      <button id="demo" data-waymark-event="Book demo">Book</button>`)
    rightClick('#partner')
    rightClick('#mail')
    rightClick('#demo')
    expect(await signals()).toEqual([])
  })

  it('sees a click even when the page stops its propagation, in the capture or the bubble phase', async () => {
    await pageWith(`
      <div id="menu"><a id="partner" href="https://partner.example.org/">Partner</a></div>
      <button id="demo" data-waymark-event="Book demo">Book</button>`)
    const { document } = page!.window
    // A menu script that handles its own links, and hides their clicks from the rest of the page.
    $('#partner').addEventListener('click', (event) => {
      event.preventDefault()
      event.stopPropagation()
    })
    $('#demo').addEventListener('click', (event) => event.stopImmediatePropagation())
    click('#partner')
    click('#demo')
    // A router that takes every click in the capture phase, before the elements see it.
    const takeOver = (event: { preventDefault(): void; stopImmediatePropagation(): void }) => {
      event.preventDefault()
      event.stopImmediatePropagation()
    }
    document.addEventListener('click', takeOver, true)
    document.body.addEventListener('auxclick', takeOver, true)
    click('#partner')
    middleClick('#partner')
    expect((await signals()).map((event) => event.k)).toEqual(['outbound_click', 'cta', 'outbound_click', 'outbound_click'])
  })

  it('never breaks the page: a click on a node without closest() (the document itself) is ignored', async () => {
    await pageWith('<p>text</p>')
    const errors: unknown[] = []
    page!.window.addEventListener('error', (event) => errors.push(event))
    const document = page!.window.document as unknown as Document
    document.dispatchEvent(mouse('click', 0))
    expect(await signals()).toEqual([])
    expect(errors).toEqual([])
  })
})

describe('Switching click signals off with data-off', () => {
  const LINKS = `
    <a id="download" href="/deck.pdf">Deck</a>
    <a id="outbound" href="https://partner.example.org/">Partner</a>
    <a id="contact" href="mailto:sales@example.com">Mail</a>
    <button id="cta" data-waymark-event="Book demo">Book</button>`
  const clickAll = () => ['#download', '#outbound', '#contact', '#cta'].forEach(click)

  it('sends every click signal when data-off is absent', async () => {
    await pageWith(LINKS)
    clickAll()
    expect((await signals()).map((event) => event.k)).toEqual(['file_download', 'outbound_click', 'contact_click', 'cta'])
  })

  it.each([
    ['downloads', 'file_download'],
    ['outbound', 'outbound_click'],
    ['contacts', 'contact_click'],
    ['ctas', 'cta'],
  ])('data-off="%s" switches off %s, and only it', async (signal, kind) => {
    await pageWith(LINKS, { attributes: { 'data-off': signal } })
    clickAll()
    expect((await signals()).map((event) => event.k)).toEqual(CLICK_KINDS.filter((k) => k !== kind))
  })

  it('a download switched off is not reported as an outbound click instead', async () => {
    await pageWith('<a id="cdn" href="https://cdn.example.net/roi.pdf">ROI</a>', { attributes: { 'data-off': 'downloads' } })
    click('#cdn')
    expect(await signals()).toEqual([])
  })

  it('a tagged form switched off (ctas) is not counted on submit', async () => {
    await pageWith('<form id="f" data-waymark-event="Request demo"><button id="send">Send</button></form>', { attributes: { 'data-off': 'ctas' } })
    click('#send')
    expect(await signals()).toEqual([])
  })

  it('takes several names, space-separated: data-off="downloads outbound contacts ctas reading" leaves page views only', async () => {
    await pageWith(LINKS, { attributes: { 'data-off': 'downloads outbound contacts ctas reading' } })
    clickAll()
    await page!.hide()
    expect(page!.events().map((event) => event.k)).toEqual(['pageview'])
  })

  it('matches whole names only', async () => {
    await pageWith(LINKS, { attributes: { 'data-off': 'download outbounds cta' } })
    clickAll()
    expect((await signals()).map((event) => event.k)).toEqual(['file_download', 'outbound_click', 'contact_click', 'cta'])
  })
})

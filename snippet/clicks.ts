import type { Properties } from '../shared/wire'
import { safe } from './safe'
import type { Enqueue } from './transport'

const PROP_PREFIX = 'data-waymark-prop-'

/**
 * Intent signals from clicks, with no set-up: file downloads, outbound links, mailto: and tel:
 * links, and elements tagged data-waymark-event="Book demo" (a tagged form counts on submit).
 * One delegated listener in the capture phase, so a page that stops propagation hides nothing;
 * it reads attributes and textContent only, never layout. `on(signal)` says whether a signal is
 * switched on; `fileTypes` is the extension pattern of a download.
 */
export const clicks = (enqueue: Enqueue, on: (signal: string) => boolean, fileTypes: RegExp) => {
  const tagged = (el: Element | null) => {
    if (!el || !on('ctas')) return
    const props: Properties = {}
    ;[].forEach.call(el.attributes, (a: Attr) => a.name.indexOf(PROP_PREFIX) || (props[a.name.slice(18)] = a.value))
    enqueue({ k: 'a', n: el.getAttribute('data-waymark-event')!, p: props })
  }

  const clicked = safe((event: MouseEvent) => {
    // A middle click opens the link in a new tab: the same intent.
    if (event.button > 1) return
    const target = event.target as Element
    // What a site marks data-waymark-ignore (an account menu with the visitor's own address) is never read.
    if (!target.closest || target.closest('[data-waymark-ignore]')) return
    const cta = target.closest('[data-waymark-event]')
    cta && cta.tagName != 'FORM' && tagged(cta)
    const link = target.closest('a[href]') as HTMLAnchorElement | null
    // (A link inside an SVG has no protocol: it is left alone.)
    const protocol = link && link.protocol
    if (!protocol) return
    // The site's own address or number: what the link says, never anything the visitor typed. A
    // share-by-email link (mailto:?body=…) has no address: nothing to record.
    const to = link.href.split('?')[0]
    // A web link without its query or fragment: a signed link's token, or a page's state, is not ours to send.
    const web = link.origin + link.pathname
    if (protocol == 'mailto:' || protocol == 'tel:') on('contacts') && to.length > protocol.length && enqueue({ k: 'c', n: to })
    // (Only web links: an app's own export, <a download href="data:…">, carries the visitor's data.)
    else if (protocol.indexOf('http')) return
    else if (link.hasAttribute('download') || fileTypes.test(link.pathname))
      on('downloads') && enqueue({ k: 'd', n: web, p: { x: (link.textContent || '').trim().slice(0, 200) } })
    else if (link.host != location.host) on('outbound') && enqueue({ k: 'o', n: web })
  })
  addEventListener('click', clicked, true)
  addEventListener('auxclick', clicked, true)
  addEventListener(
    'submit',
    safe((event: Event) => {
      const form = event.target as Element
      form.hasAttribute('data-waymark-event') && tagged(form)
    }),
    true,
  )
}

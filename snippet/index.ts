import { clicks } from './clicks'
import { forms } from './forms'
import { ulid } from './ids'
import { identity } from './identity'
import { pageviews } from './pageviews'
import { reading } from './reading'
import { safe } from './safe'
import { load, save, visitorId } from './storage'
import { transport, type Envelope } from './transport'

/** The visitor's IANA time zone, once read. */
const ZONE_KEY = 'waymark_tz'

type Command = (...args: any[]) => void
type Waymark = Command & { q?: IArguments[] }
declare global {
  interface Window {
    waymark?: Waymark
  }
}

// The tag is the whole set-up: <script defer src=".../w.js" data-site="SITE_ID"></script>.
// A tracker must never break the page: every feature starts, listens and answers through safe().
safe(() => {
  const script = document.currentScript as HTMLScriptElement | null
  const site = script && script.getAttribute('data-site')
  if (!site) return
  const envelope: Envelope = {
    s: site,
    v: visitorId(),
    sw: screen.width,
    l: navigator.language,
    z: load(ZONE_KEY) || void 0,
    // A browser driven by automation (headless crawlers, test robots) says so; the collector counts it as a bot.
    b: navigator.webdriver ? 1 : void 0,
  }
  // Making an Intl.DateTimeFormat took 25 to 45 ms of the page's load in Chromium (npm run bench):
  // the visitor's time zone is read once, when the browser is idle (or after 2 s on a page that
  // never is; setTimeout, where there is no idle callback, reads the options as no delay), and
  // kept for their next pages.
  envelope.z || (self.requestIdleCallback || setTimeout)(safe(() => save(ZONE_KEY, (envelope.z = Intl.DateTimeFormat().resolvedOptions().timeZone))), { timeout: 2000 } as any)
  const sender = transport(script.getAttribute('data-api') || new URL(script.src).origin + '/e', envelope, ulid, script.getAttribute('data-consent') == 'required')
  const people = identity(sender, envelope)
  // Signals captured with no code, each switched off by naming it: data-off="downloads outbound contacts ctas reading".
  const off = (script.getAttribute('data-off') || '').split(/[\s,]+/)
  const on = (signal: string) => off.indexOf(signal) < 0
  let abandonForms: (inApp?: boolean) => void = () => {}
  safe(() => (abandonForms = forms(sender.enqueue, script.hasAttribute('data-identify-forms'), people.identify)))()
  // data-downloads="pdf docx key" replaces the file types a download is known by ("*.pdf" and ".pdf" too).
  const types = (script.getAttribute('data-downloads') || 'pdf docx? xlsx? pptx? csv zip rtf txt odt ods odp key epub gz 7z rar dmg exe msi')
    .replace(/[*.]/g, '')
    .replace(/[^\w\s,?]/g, '\\$&')
  safe(() => clicks(sender.enqueue, on, new RegExp('\\.(' + types.trim().split(/[\s,]+/).join('|') + ')$', 'i')))()
  const views = on('reading') ? reading(sender.enqueue) : { start() {}, report() {} }
  const commands: Record<string, Command> = {
    ...people,
    consent: sender.consent,
    page: pageviews(
      sender.enqueue,
      () => {
        abandonForms(true)
        views.report()
      },
      views.start,
    ),
  }

  // Leaving: what the features still hold is queued, then everything leaves with sendBeacon.
  const leave = safe(() => {
    abandonForms()
    views.report()
    sender.flush(true)
  })
  addEventListener('pagehide', leave)
  addEventListener('visibilitychange', () => document.visibilityState == 'hidden' && leave())

  // Calls made before the script loaded wait in waymark.q (the README's one-line stub); run them in order.
  const queued = window.waymark && window.waymark.q
  const run = safe((args: ArrayLike<any>) => {
    const command = commands[args[0]]
    command && command.apply(0, [].slice.call(args, 1))
  })
  window.waymark = function () {
    run(arguments)
  } as Waymark
  queued && [].forEach.call(queued, run)
})()

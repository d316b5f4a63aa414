import { ulid } from './ids'
import { pageviews } from './pageviews'
import { visitorId } from './storage'
import { transport } from './transport'

type Command = (...args: any[]) => void
type Waymark = Command & { q?: IArguments[] }
declare global {
  interface Window {
    waymark?: Waymark
  }
}

// The tag is the whole set-up: <script defer src=".../w.js" data-site="SITE_ID"></script>.
// A tracker must never break the page, so everything fails silent.
;(() => {
  const script = document.currentScript as HTMLScriptElement | null
  const site = script && script.getAttribute('data-site')
  if (!site) return
  const enqueue = transport(
    script.getAttribute('data-api') || new URL(script.src).origin + '/e',
    {
      s: site,
      v: visitorId(),
      sw: screen.width,
      l: navigator.language,
      z: Intl.DateTimeFormat().resolvedOptions().timeZone,
    },
    ulid,
  )
  const commands: Record<string, Command> = { page: pageviews(enqueue) }

  // Calls made before the script loaded wait in waymark.q (the README's one-line stub); run them in order.
  const queued = window.waymark && window.waymark.q
  const run = (args: ArrayLike<any>) => {
    const command = commands[args[0]]
    command && command.apply(0, [].slice.call(args, 1))
  }
  window.waymark = function () {
    run(arguments)
  } as Waymark
  queued && [].forEach.call(queued, run)
})()

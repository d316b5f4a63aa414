import { ENGAGEMENT_PROPS, FORM_PROPS, type EventKind, type Properties } from '../../shared/wire'

/** What is stored of an event's name and properties. */
export interface EventDetails {
  name: string | null
  props: Properties | null
}

/** A link's address less its query and fragment: a signed download URL's token is nobody's business. */
function withoutQuery(url: string): string {
  const parsed = new URL(url)
  return parsed.origin + parsed.pathname
}

/** Short wire keys given their names. */
const named = (props: Properties | undefined, names: Record<string, string>): Properties | null =>
  props ? Object.fromEntries(Object.entries(props).map(([key, value]) => [names[key] ?? key, value])) : null

/**
 * The name and properties to store, by kind, from what the tag sent (already checked): the
 * tag's one-letter keys become names analysts read, and what the collector can tell from a
 * link (the kind of contact, an address without its query) it works out here, not in the browser.
 */
export function eventDetails(kind: EventKind, name: string | undefined, props: Properties | undefined): EventDetails {
  if (kind.startsWith('form_')) return { name: name ?? null, props: named(props, FORM_PROPS) }
  switch (kind) {
    case 'page_engagement':
      return { name: name!, props: named(props, ENGAGEMENT_PROPS) }
    case 'file_download': {
      const text = typeof props?.x === 'string' ? props.x.trim() : ''
      return { name: withoutQuery(name!), props: text ? { text } : null }
    }
    case 'outbound_click':
      return { name: withoutQuery(name!), props: null }
    case 'contact_click': {
      const [scheme, rest] = [name!.slice(0, name!.indexOf(':')).toLowerCase(), name!.slice(name!.indexOf(':') + 1).split('?')[0]]
      let address = rest
      try {
        address = decodeURIComponent(rest)
      } catch {}
      address = address.trim()
      return scheme === 'mailto'
        ? { name: address.toLowerCase(), props: { kind: 'email' } }
        : { name: address.replace(/[^\d+]/g, '') || address, props: { kind: 'phone' } }
    }
    default:
      return { name: name ?? null, props: props ?? null }
  }
}

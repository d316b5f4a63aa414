import { hostMatchesDomain } from '../sites'
import type { StoredEvent } from '../store/types'

/**
 * The query parameters kept in a stored URL. Any other (a GET form's fields, a token in a link)
 * may be personal, so it is dropped before anything is written.
 */
export const KEPT_PARAMETERS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'utm_id', 'gclid', 'fbclid', 'msclkid', 'li_fat_id']

/**
 * What the collector reads from a page's URL, so the snippet does not have to; `url` is stored
 * as origin, path and only the KEPT_PARAMETERS.
 */
export type PageFacts = Pick<
  StoredEvent,
  'url' | 'path' | 'utmSource' | 'utmMedium' | 'utmCampaign' | 'utmTerm' | 'utmContent' | 'gclid' | 'fbclid' | 'msclkid' | 'liFatId'
>

export function readPageUrl(url: string): PageFacts {
  const parsed = new URL(url)
  // An empty or blank value says nothing: stored as none, never as an empty string.
  const param = (name: string) => parsed.searchParams.get(name)?.trim().slice(0, 256) || null
  const kept = new URLSearchParams()
  for (const [name, value] of parsed.searchParams) if (KEPT_PARAMETERS.includes(name)) kept.append(name, value)
  const query = kept.toString()
  return {
    url: parsed.origin + parsed.pathname + (query ? `?${query}` : ''),
    path: parsed.pathname,
    utmSource: param('utm_source'),
    utmMedium: param('utm_medium'),
    utmCampaign: param('utm_campaign'),
    utmTerm: param('utm_term'),
    utmContent: param('utm_content'),
    gclid: param('gclid'),
    fbclid: param('fbclid'),
    msclkid: param('msclkid'),
    liFatId: param('li_fat_id'),
  }
}

/**
 * A referrer worth keeping: one from outside the site (its domain and subdomains), as its origin
 * and path only (a search engine's query or a webmail link's token is nobody's business).
 */
export function externalReferrer(referrer: string | undefined, siteDomain: string): string | null {
  if (!referrer) return null
  try {
    const parsed = new URL(referrer)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
    return hostMatchesDomain(parsed.hostname, siteDomain) ? null : parsed.origin + parsed.pathname
  } catch {
    return null
  }
}

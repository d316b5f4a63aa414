import { hostMatchesDomain } from '../sites'

/** What the collector reads from a page's URL, so the snippet does not have to. */
export interface PageFacts {
  path: string
  utmSource: string | null
  utmMedium: string | null
  utmCampaign: string | null
  utmTerm: string | null
  utmContent: string | null
  gclid: string | null
  fbclid: string | null
  msclkid: string | null
  liFatId: string | null
}

export function readPageUrl(url: string): PageFacts {
  const parsed = new URL(url)
  const param = (name: string) => parsed.searchParams.get(name)?.slice(0, 256) || null
  return {
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

/** A referrer worth keeping: one from outside the site (its domain and subdomains). */
export function externalReferrer(referrer: string | undefined, siteDomain: string): string | null {
  if (!referrer) return null
  try {
    const parsed = new URL(referrer)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
    return hostMatchesDomain(parsed.hostname, siteDomain) ? null : referrer
  } catch {
    return null
  }
}

/**
 * Channel grouping: where a session came from, in the groups an analyst knows from the major web
 * analytics tools (GA4's default channel grouping, reduced to the channels B2B sites see).
 */
export const CHANNELS = [
  'Direct',
  'Organic Search',
  'Paid Search',
  'Organic Social',
  'Paid Social',
  'Email',
  'Referral',
  'Display',
  'Affiliate',
  'Other',
  /** Not a web visit: events a back end or CRM sent with no page (a deal won, an invoice paid). */
  'Offline',
] as const
export type Channel = (typeof CHANNELS)[number]

/** What a visit arrived with: UTM values, click ids and the external referrer. */
export interface Arrival {
  utmSource?: string | null
  utmMedium?: string | null
  utmCampaign?: string | null
  gclid?: string | null
  msclkid?: string | null
  fbclid?: string | null
  liFatId?: string | null
  referrer?: string | null
}

export interface Attribution {
  source: string
  medium: string
  channel: Channel
}

/** Hosts by the source name they report as; a host matches its own name and its subdomains. */
const SEARCH_ENGINES: Record<string, string[]> = {
  google: ['google.com', 'google.co.uk', 'google.de', 'google.fr', 'google.ca', 'google.com.au', 'google.co.in', 'google.es', 'google.it', 'google.nl', 'google.com.br', 'google.co.jp', 'google.ch', 'google.se', 'google.pl', 'google.be', 'google.at', 'google.ie', 'google.dk', 'google.no', 'google.fi', 'google.pt', 'google.com.mx', 'google.co.za'],
  bing: ['bing.com'],
  yahoo: ['yahoo.com', 'search.yahoo.com', 'yahoo.co.jp'],
  duckduckgo: ['duckduckgo.com'],
  baidu: ['baidu.com'],
  yandex: ['yandex.ru', 'yandex.com'],
  ecosia: ['ecosia.org'],
  qwant: ['qwant.com'],
  brave: ['search.brave.com'],
  startpage: ['startpage.com'],
  naver: ['naver.com'],
  seznam: ['seznam.cz'],
  ask: ['ask.com'],
  aol: ['aol.com'],
  perplexity: ['perplexity.ai'],
  kagi: ['kagi.com'],
}
const SOCIAL_NETWORKS: Record<string, string[]> = {
  linkedin: ['linkedin.com', 'lnkd.in'],
  facebook: ['facebook.com', 'fb.com', 'm.facebook.com', 'l.facebook.com', 'lm.facebook.com'],
  instagram: ['instagram.com', 'l.instagram.com'],
  x: ['twitter.com', 't.co', 'x.com'],
  youtube: ['youtube.com', 'youtu.be'],
  reddit: ['reddit.com'],
  pinterest: ['pinterest.com'],
  tiktok: ['tiktok.com'],
  quora: ['quora.com'],
  xing: ['xing.com'],
  threads: ['threads.net'],
  mastodon: ['mastodon.social'],
  bluesky: ['bsky.app'],
  slack: ['slack.com'],
  discord: ['discord.com'],
  medium: ['medium.com'],
}
const EMAIL_HOSTS: Record<string, string[]> = {
  gmail: ['mail.google.com'],
  outlook: ['outlook.live.com', 'outlook.office.com', 'outlook.office365.com'],
  yahoo_mail: ['mail.yahoo.com'],
  proton_mail: ['mail.proton.me', 'mail.protonmail.com'],
  aol_mail: ['mail.aol.com'],
  zoho_mail: ['mail.zoho.com', 'mail.zoho.eu'],
  fastmail: ['app.fastmail.com'],
  hey: ['app.hey.com'],
  yandex_mail: ['mail.yandex.ru', 'mail.yandex.com'],
}

const hostIndex = (table: Record<string, string[]>) =>
  Object.entries(table).flatMap(([name, hosts]) => hosts.map((host) => [host, name] as const))
const EMAIL_INDEX = hostIndex(EMAIL_HOSTS)
const SEARCH_INDEX = hostIndex(SEARCH_ENGINES)
const SOCIAL_INDEX = hostIndex(SOCIAL_NETWORKS)

const lookup = (index: (readonly [string, string])[], host: string) =>
  index.find(([known]) => host === known || host.endsWith('.' + known))?.[1]

const SEARCH_NAMES = new Set(Object.keys(SEARCH_ENGINES))
const SOCIAL_NAMES = new Set(Object.keys(SOCIAL_NETWORKS))
/** Names a campaign's utm_source goes by, merged into one: LinkedIn is linkedin whether tagged li, LinkedIn or lnkd.in. */
const SOURCE_ALIASES: Record<string, string> = { li: 'linkedin', fb: 'facebook', ig: 'instagram', tw: 'x', twitter: 'x', yt: 'youtube', 'google-ads': 'google', adwords: 'google', gmail: 'gmail', outlook: 'outlook' }
/** Mediums that mean the same, merged into one. */
const MEDIUM_ALIASES: Record<string, string> = { 'e-mail': 'email', e_mail: 'email', 'e mail': 'email', 'social-media': 'social', 'social media': 'social', 'social-network': 'social', 'social network': 'social', sm: 'social' }

/**
 * A source as one name whatever it was tagged as: case-folded, a known alias merged, a host
 * (linkedin.com, t.co, mail.google.com) named as the referrer would name it.
 */
function cleanSource(value: string | null | undefined): string | undefined {
  const source = value?.trim().toLowerCase()
  if (!source) return
  const host = source.replace(/^https?:\/\//, '').replace(/^www\./, '').split('/')[0]
  return SOURCE_ALIASES[source] ?? (host.includes('.') ? (lookup(EMAIL_INDEX, host) ?? lookup(SEARCH_INDEX, host) ?? lookup(SOCIAL_INDEX, host)) : undefined) ?? source
}
const cleanMedium = (value: string | null | undefined) => {
  const medium = value?.trim().toLowerCase()
  return medium ? (MEDIUM_ALIASES[medium] ?? medium) : undefined
}
const PAID_MEDIUM = /^(.*cp.*|ppc|retargeting|paid.*)$/
const SOCIAL_MEDIUM = /^(social|social-network|social-media|sm|social network|social media|organic[-_ ]social)$/
const EMAIL_PATTERN = /^(e-?mail|e_mail|e mail|newsletter)$/
const DISPLAY_MEDIUM = /^(display|banner|expandable|interstitial|cpm)$/

function referrerHost(referrer: string | null | undefined): string | undefined {
  if (!referrer) return
  try {
    return new URL(referrer).hostname.toLowerCase().replace(/^www\./, '')
  } catch {
    return
  }
}

/** Source, medium and channel of a visit. Pure: the same arrival always gets the same answer. */
export function attribute(arrival: Arrival): Attribution {
  const host = referrerHost(arrival.referrer)
  // Webmail first: mail.google.com is a Google host but no search.
  const webmail = host && lookup(EMAIL_INDEX, host)
  const hostSource = host && (webmail ?? lookup(SEARCH_INDEX, host) ?? lookup(SOCIAL_INDEX, host))
  const utmSource = cleanSource(arrival.utmSource)
  const utmMedium = cleanMedium(arrival.utmMedium)

  // Click ids say what the ad network's auto-tagging says, unless UTM values say otherwise.
  const clickSource = arrival.gclid ? 'google' : arrival.msclkid ? 'bing' : arrival.liFatId ? 'linkedin' : arrival.fbclid ? 'facebook' : undefined
  const clickMedium = arrival.gclid || arrival.msclkid || arrival.liFatId ? 'cpc' : undefined

  const source = utmSource ?? clickSource ?? hostSource ?? host ?? '(direct)'
  const medium =
    utmMedium ??
    clickMedium ??
    (hostSource && SEARCH_NAMES.has(hostSource)
      ? 'organic'
      : hostSource && SOCIAL_NAMES.has(hostSource)
        ? 'social'
        : webmail
          ? 'email'
          : host
            ? 'referral'
            : utmSource
              ? '(not set)'
              : '(none)')
  return { source, medium, channel: channelOf(source, medium) }
}

function channelOf(source: string, medium: string): Channel {
  const search = SEARCH_NAMES.has(source)
  const social = SOCIAL_NAMES.has(source) || SOCIAL_MEDIUM.test(medium)
  if (source === '(direct)' && (medium === '(none)' || medium === '(not set)')) return 'Direct'
  if (EMAIL_PATTERN.test(source) || EMAIL_PATTERN.test(medium) || Object.keys(EMAIL_HOSTS).includes(source)) return 'Email'
  if (medium === 'affiliate' || medium === 'affiliates') return 'Affiliate'
  if (PAID_MEDIUM.test(medium)) return search ? 'Paid Search' : social ? 'Paid Social' : medium === 'cpm' ? 'Display' : 'Other'
  if (DISPLAY_MEDIUM.test(medium)) return 'Display'
  if (search || medium === 'organic') return 'Organic Search'
  if (social) return 'Organic Social'
  if (medium === 'referral' || medium === 'link') return 'Referral'
  return 'Other'
}

import { LIMITS } from '../../shared/limits'
import { checkBatch, checkEvent } from '../../shared/validate'
import { KIND_CODES, type IngestReply } from '../../shared/wire'
import { hostMatchesDomain, type FindSite } from '../sites'
import type { StoredEvent } from '../store/types'
import type { GroupCommit } from './group-commit'
import { eventDetails } from './event-details'
import { externalReferrer, readPageUrl } from './page-url'
import { parseUserAgent } from './user-agent'

/** What the collector knows of a request besides its body. The client IP is deliberately absent. */
export interface RequestFacts {
  origin: string | undefined
  referer: string | undefined
  userAgent: string | undefined
  receivedAt: number
  /** The browser sent Global Privacy Control (Sec-GPC: 1) or Do Not Track (DNT: 1). */
  privacySignal?: boolean
  /** Bots' events are acknowledged and not stored (default: stored, and kept out of sessions and journeys). */
  dropBots?: boolean
}

export type IngestOutcome =
  | { status: 200 | 400; reply: IngestReply }
  | { status: 400 | 403 | 404; error: string }
  | { status: 429; error: string; retryAfter: number }

/** How long a site that has sent too many events should wait before the next (0: go ahead). */
export type SiteQuota = (siteId: string, events: number) => number

/** Where a browser request comes from: its Origin, or failing that its Referer. */
function requestHost(facts: RequestFacts): string | undefined {
  for (const header of [facts.origin, facts.referer]) {
    if (!header || header === 'null') continue
    try {
      return new URL(header).hostname
    } catch {}
  }
}

/**
 * Judges one batch from the snippet and stores its valid events. Invalid events are refused one
 * by one with a reason; the valid ones beside them are kept. Resolves once the kept events are
 * durable, so the caller may acknowledge.
 */
export async function ingestBatch(
  findSite: FindSite,
  commits: GroupCommit<StoredEvent>,
  body: string,
  facts: RequestFacts,
  quota: SiteQuota = () => 0,
): Promise<IngestOutcome> {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { status: 400, error: 'the body is not valid JSON' }
  }
  const batch = checkBatch(json)
  if (!batch.ok) return { status: 400, error: batch.reason }
  const { siteId, visitorId, sentAt, screenWidth, language, timezone, automated, events } = batch.value

  const site = await findSite(siteId)
  if (!site)
    return {
      status: 404,
      error: `site "${siteId}" not found: check data-site on the script tag, or add the site with: npx waymark site add <domain>`,
    }
  const host = requestHost(facts)
  if (!host || !hostMatchesDomain(host, site.domain))
    return {
      status: 403,
      error: `events for site "${siteId}" are taken only from ${site.domain} and its subdomains, not from ${host ?? 'a request without Origin'}`,
    }

  // A site that honours privacy signals stores nothing from a browser that sends one, and says so only as "0 accepted".
  if (site.honorPrivacySignals && facts.privacySignal) return { status: 200, reply: { accepted: 0, rejected: [] } }
  const wait = quota(site.id, events.length)
  if (wait) return { status: 429, error: `site "${siteId}" is sending more events than its limit; retry in ${wait} s`, retryAfter: wait }

  // The browser's clock may be wrong; the gap between its send time and our receive time says by how much.
  const skew = sentAt === undefined ? 0 : facts.receivedAt - sentAt
  const parsed = parseUserAgent(facts.userAgent)
  const client = automated ? { ...parsed, isBot: true } : parsed
  if (client.isBot && facts.dropBots) return { status: 200, reply: { accepted: events.length, rejected: [] } }
  const kept: StoredEvent[] = []
  const rejected: IngestReply['rejected'] = []
  events.forEach((raw, index) => {
    const checked = checkEvent(raw)
    if (!checked.ok) {
      const id = (raw as { id?: unknown } | null)?.id
      rejected.push({ index, ...(typeof id === 'string' ? { id: id.slice(0, 40) } : {}), reason: checked.reason })
      return
    }
    const event = checked.value
    const occurredAt = Math.min(Math.round(event.t + skew), facts.receivedAt)
    if (facts.receivedAt - occurredAt > LIMITS.maxEventAgeMs) {
      rejected.push({ index, id: event.id, reason: 'the event is older than the collector accepts (7 days)' })
      return
    }
    const kind = KIND_CODES[event.k]
    kept.push({
      id: event.id,
      siteId: site.id,
      visitorId,
      kind,
      ...eventDetails(kind, event.n, event.p),
      occurredAt,
      receivedAt: facts.receivedAt,
      ...readPageUrl(event.u),
      title: event.ti ?? null,
      referrer: externalReferrer(event.r, site.domain),
      screenWidth: screenWidth ?? null,
      language: language ?? null,
      timezone: timezone ?? null,
      ...client,
    })
  })
  await commits.add(kept)
  return { status: rejected.length ? 400 : 200, reply: { accepted: kept.length, rejected } }
}


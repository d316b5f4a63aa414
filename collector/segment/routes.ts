import type { Context } from 'hono'
import { Hono } from 'hono'
import { gunzipSync } from 'node:zlib'
import { BodyTooLarge, privacySignal, readBodyBytes } from '../body'
import type { GroupCommit } from '../ingest/group-commit'
import type { SiteQuota } from '../ingest/ingest'
import { parseUserAgent } from '../ingest/user-agent'
import { hostMatchesDomain, type FindSite, type FindSiteBySecret } from '../sites'
import type { Site, StoredEvent } from '../store/types'
import { SEGMENT_LIMITS, SEGMENT_TYPES, segmentEvent, type SegmentType } from './messages'

/** The single-call endpoints, and the one-letter paths browser libraries post to. */
const CALLS: Record<string, SegmentType> = {
  ...Object.fromEntries(SEGMENT_TYPES.map((type) => [type, type])),
  t: 'track', p: 'page', s: 'screen', i: 'identify', g: 'group', a: 'alias',
}

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Answers in Segment's shape: {"success": true}, or false with what went wrong. */
const fail = (c: Context, status: 400 | 401, error: string, extra: Json = {}) => c.json({ success: false, error, ...extra }, status)

/** The body as JSON, gunzipped if sent gzipped, within the batch limit however it was sent. */
async function readMessageBody(c: Context): Promise<{ body: Json } | { error: string }> {
  const tooLarge = `the request is larger than ${SEGMENT_LIMITS.batchBytes / 1024} KB: send fewer messages per batch`
  let bytes: Buffer
  try {
    bytes = await readBodyBytes(c, SEGMENT_LIMITS.batchBytes)
    const encoding = c.req.header('Content-Encoding')?.trim().toLowerCase()
    if (encoding === 'gzip') bytes = gunzipSync(bytes, { maxOutputLength: SEGMENT_LIMITS.batchBytes })
    else if (encoding && encoding !== 'identity') return { error: `Content-Encoding "${encoding}" is not supported: send gzip or none` }
  } catch (error) {
    if (error instanceof BodyTooLarge || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { error: tooLarge }
    return { error: 'the body is not valid gzip' }
  }
  try {
    const body = JSON.parse(bytes.toString('utf8'))
    return isObject(body) ? { body } : { error: 'the body must be a JSON object' }
  } catch {
    return { error: 'the body is not valid JSON' }
  }
}

/**
 * Who is sending. A server sends the site's secret write key (HTTP Basic user name, or
 * `writeKey` in the body) and is trusted with everything. A browser library cannot keep a secret:
 * it sends the public site id as its write key, and is taken, as the snippet is, only from the
 * site's own pages (by Origin), and never with an alias.
 */
async function sender(c: Context, body: Json, findBySecret: FindSiteBySecret, findSite: FindSite): Promise<{ site: Site; trusted: boolean } | undefined> {
  const basic = /^Basic\s+(\S+)$/i.exec(c.req.header('Authorization') ?? '')?.[1]
  const fromHeader = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[0] : undefined
  const key = fromHeader || (typeof body.writeKey === 'string' ? body.writeKey : undefined)
  if (!key) return
  const site = await findBySecret(key, 'writeKey')
  if (site) return { site, trusted: true }
  const publicSite = key.length <= 64 ? await findSite(key) : undefined
  const origin = c.req.header('Origin')
  let host: string | undefined
  try {
    host = origin ? new URL(origin).hostname : undefined
  } catch {}
  if (publicSite && host && hostMatchesDomain(host, publicSite.domain)) return { site: publicSite, trusted: false }
}

/**
 * The Segment HTTP Tracking API: /v1/batch (and /v1/import), /v1/track, /v1/page, /v1/screen,
 * /v1/identify, /v1/group, /v1/alias. Messages join the snippet's events in the same commit path,
 * identity graph, sessions and journeys.
 */
/** `now` stamps what arrives: the store's clock, shared by every collector of a ClickHouse store. */
export function segmentApi(commits: GroupCommit<StoredEvent>, findSite: FindSite, findBySecret: FindSiteBySecret, quota: SiteQuota = () => 0, now = () => Date.now()) {
  const api = new Hono()
  api.use('*', async (c, next) => {
    c.header('Access-Control-Allow-Origin', c.req.header('Origin') ?? '*')
    c.header('Vary', 'Origin')
    await next()
  })
  api.options('*', (c) => {
    c.header('Access-Control-Allow-Methods', 'POST')
    c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type, Content-Encoding')
    c.header('Access-Control-Max-Age', '86400')
    return c.body(null, 204)
  })

  api.post('/:call', async (c) => {
    const call = c.req.param('call')
    const batch = call === 'batch' || call === 'import'
    const type = CALLS[call]
    if (!batch && !type) return c.json({ success: false, error: `no endpoint /v1/${call}: use batch, track, page, screen, identify, group or alias` }, 404)
    const read = await readMessageBody(c)
    if ('error' in read) return fail(c, 400, read.error)
    const { body } = read
    const who = await sender(c, body, findBySecret, findSite)
    if (!who)
      return fail(c, 401, "send the site's write key as the HTTP Basic user name (or writeKey in the body); from a browser, the site id, from the site's own pages")

    // From a browser that asks not to be tracked, on a site that honours it: nothing is stored.
    if (!who.trusted && who.site.honorPrivacySignals && privacySignal(c)) return c.json({ success: true })
    const receivedAt = now()
    const facts = { site: who.site, receivedAt, userAgent: parseUserAgent(c.req.header('User-Agent')), parseUserAgent, trusted: who.trusted }
    let messages: { message: unknown; type: unknown }[]
    let sentAt: number | undefined
    if (batch) {
      if (!Array.isArray(body.batch) || !body.batch.length) return fail(c, 400, '"batch" must be a non-empty array of messages')
      messages = body.batch.map((message) => ({ message, type: isObject(message) ? message.type : undefined }))
      sentAt = typeof body.sentAt === 'string' ? Date.parse(body.sentAt) : undefined
    } else messages = [{ message: body, type }]

    const wait = quota(who.site.id, messages.length)
    if (wait) {
      c.header('Retry-After', String(wait))
      return c.json({ success: false, error: `this site is sending more events than its limit; retry in ${wait} s` }, 429)
    }
    const kept: StoredEvent[] = []
    const rejected: { index: number; messageId?: string; reason: string }[] = []
    messages.forEach(({ message, type }, index) => {
      const messageId = isObject(message) && typeof message.messageId === 'string' ? message.messageId.slice(0, 200) : undefined
      const checked = SEGMENT_TYPES.includes(type as SegmentType)
        ? segmentEvent(message, type as SegmentType, Number.isNaN(sentAt) ? undefined : sentAt, facts)
        : { ok: false as const, reason: `"type" must be one of ${SEGMENT_TYPES.join(', ')}` }
      if (checked.ok) kept.push(checked.value)
      else rejected.push({ index, ...(messageId ? { messageId } : {}), reason: checked.reason })
    })
    await commits.add(kept)
    if (rejected.length) return fail(c, 400, `${rejected.length} of ${messages.length} messages refused; the others are stored`, { accepted: kept.length, rejected })
    return c.json({ success: true })
  })
  return api
}

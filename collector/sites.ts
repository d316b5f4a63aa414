import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Site, Store } from './store/types'

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
/** A random token of lower-case base 32, for ids and secrets. */
export const randomToken = (length: number) =>
  Array.from(randomBytes(length), (byte) => BASE32[byte & 31]).join('')

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex')

/**
 * Turns what a user types for a site ("https://www.Example.com/blog") into the host events are
 * allowed from ("www.example.com"), or says what is wrong with it.
 */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim().toLowerCase()
  let host: string
  try {
    host = new URL(/^[a-z][a-z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `http://${trimmed}`).hostname
  } catch {
    throw new Error(`"${input}" is not a domain: give the site's host name, such as example.com`)
  }
  if (!host || !/^[a-z0-9.-]+$/.test(host) || host.startsWith('.') || host.endsWith('.'))
    throw new Error(`"${input}" is not a domain: give the site's host name, such as example.com`)
  return host
}

/** A host belongs to a site when it is the site's domain or a subdomain of it. */
export const hostMatchesDomain = (host: string, domain: string) =>
  host === domain || host.endsWith('.' + domain)

export interface NewSiteSecrets {
  site: Site
  /** Secret, for server-side sending; shown once, stored only as a hash. */
  writeKey: string
  /** Secret, for export and reports; shown once, stored only as a hash. */
  readToken: string
  /** Secret, for erasure; shown once, stored only as a hash. */
  adminToken: string
}

/** New secrets for a site; only their hashes are kept. */
export const newAdminToken = () => 'at_' + randomToken(32)
export const newReadToken = () => 'rt_' + randomToken(32)
export const newWriteKey = () => 'wk_' + randomToken(32)

export async function addSite(store: Store, domainInput: string, now = Date.now()): Promise<NewSiteSecrets> {
  const domain = normalizeDomain(domainInput)
  const writeKey = newWriteKey()
  const readToken = newReadToken()
  const adminToken = newAdminToken()
  const site: Site = {
    id: randomToken(12),
    domain,
    writeKeyHash: hashSecret(writeKey),
    readTokenHash: hashSecret(readToken),
    adminTokenHash: hashSecret(adminToken),
    createdAt: now,
    retentionDays: null,
    honorPrivacySignals: false,
  }
  await store.addSite(site)
  return { site, writeKey, readToken, adminToken }
}

/** The exact tag a site owner pastes into every page. */
export const scriptTag = (collectorUrl: string, siteId: string) =>
  `<script defer src="${collectorUrl.replace(/\/+$/, '')}/w.js" data-site="${siteId}"></script>`

export type FindSite = (id: string) => Promise<Site | undefined>

/** Which site a secret opens, by its write key, read token or admin token. */
export type SecretKind = 'writeKey' | 'readToken' | 'adminToken'
export type FindSiteBySecret = (secret: string, kind: SecretKind) => Promise<Site | undefined>
const HASH_OF: Record<SecretKind, 'writeKeyHash' | 'readTokenHash' | 'adminTokenHash'> = { writeKey: 'writeKeyHash', readToken: 'readTokenHash', adminToken: 'adminTokenHash' }

/**
 * Finds the site a secret belongs to. The secret is compared by its SHA-256 hash, in constant time
 * against every site's, so neither the answer nor its timing says how much of a guess was right.
 * The list of sites is read at most once per `ttlMs`.
 */
export function siteBySecret(store: Store, ttlMs = 5000): FindSiteBySecret {
  let sites: { list: Site[]; until: number } | undefined
  const match = (list: Site[], secret: string, kind: SecretKind) => {
    const hash = Buffer.from(hashSecret(secret), 'hex')
    let found: Site | undefined
    for (const site of list) {
      const stored = site[HASH_OF[kind]]
      if (stored && timingSafeEqual(hash, Buffer.from(stored, 'hex'))) found = site
    }
    return found
  }
  const load = async () => (sites = { list: await store.listSites(), until: Date.now() + ttlMs }).list
  return async (secret, kind) => {
    // An admin token just replaced must stop working at once: those are checked against the current list.
    const fresh = !sites || sites.until <= Date.now() || kind === 'adminToken'
    const found = match(fresh ? await load() : sites!.list, secret, kind)
    // A site added a moment ago is not in the remembered list yet.
    return found ?? (fresh ? undefined : match(await load(), secret, kind))
  }
}

/**
 * Site lookups for the ingest path, remembered for a few seconds: the store is asked at most
 * once per site per `ttlMs`, and a site added or removed is seen within that time. Unknown ids
 * are remembered too, so a flood for a made-up site costs no queries.
 */
export function cachedSiteLookup(store: Store, ttlMs = 5000, maxEntries = 10_000): FindSite {
  const cache = new Map<string, { site: Site | undefined; until: number }>()
  return async (id) => {
    const now = Date.now()
    const hit = cache.get(id)
    if (hit && hit.until > now) return hit.site
    const site = await store.findSite(id)
    if (cache.size >= maxEntries) cache.clear()
    cache.set(id, { site, until: now + ttlMs })
    return site
  }
}

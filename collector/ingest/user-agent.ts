import { isbot } from 'isbot'
import UAParser from 'ua-parser-js'

export interface Client {
  browser: string | null
  os: string | null
  /** desktop, mobile, tablet, tv, console, wearable or embedded. */
  device: string | null
  isBot: boolean
}

const DEVICE_CLASSES: Record<string, string> = { smarttv: 'tv' }
const CACHE_SIZE = 2000
const cache = new Map<string, Client>()

/**
 * Browser, OS, device class and bot flag from a User-Agent header. Parsing costs tens of
 * microseconds and a site's visitors share few distinct agents, so answers are cached.
 */
export function parseUserAgent(userAgent: string | undefined): Client {
  if (!userAgent) return { browser: null, os: null, device: null, isBot: true }
  let client = cache.get(userAgent)
  if (client) return client
  const result = new UAParser(userAgent).getResult()
  const type = result.device.type
  client = {
    browser: result.browser.name ?? null,
    os: result.os.name ?? null,
    device: type ? (DEVICE_CLASSES[type] ?? type) : 'desktop',
    isBot: isbot(userAgent),
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  cache.set(userAgent, client)
  return client
}

import { ulid } from './ids'

/** First-party localStorage that never throws: privacy modes and sandboxed frames refuse it. */
export const load = (key: string): string | null => {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

export const save = (key: string, value?: string) => {
  try {
    value ? localStorage.setItem(key, value) : localStorage.removeItem(key)
  } catch {}
}

const VISITOR_KEY = 'waymark_vid'

/**
 * The anonymous visitor id, kept so a returning visitor is recognised; a new one when `fresh`
 * (after a reset or a change of person). Where storage is refused it lives for this page load.
 */
export const visitorId = (fresh?: boolean): string => {
  let id = fresh ? null : load(VISITOR_KEY)
  if (!id) save(VISITOR_KEY, (id = ulid()))
  return id
}

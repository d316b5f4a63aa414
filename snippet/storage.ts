import { ulid } from './ids'

/**
 * The anonymous visitor id, kept in first-party localStorage so a returning visitor is recognised.
 * Where storage is refused (privacy modes, sandboxed frames) the id lives for this page load only.
 */
export const visitorId = (): string => {
  const key = 'waymark_vid'
  let id: string | null = null
  try {
    id = localStorage.getItem(key)
    if (!id) localStorage.setItem(key, (id = ulid()))
  } catch {}
  return id || ulid()
}

import type { Store } from './store/types'

const DAY_MS = 86_400_000
/** How often a running collector deletes what has passed its sites' retention. */
export const RETENTION_EVERY_MS = 3_600_000

/**
 * Deletes each site's raw events older than its retention (`waymark site set --retention-days`).
 * Sessions and stage history, made from them while they were kept, stay; a rebuild afterwards
 * makes them from what is left.
 */
export async function applyRetention(store: Store, now = Date.now()): Promise<{ domain: string; deleted: number }[]> {
  const done: { domain: string; deleted: number }[] = []
  for (const site of await store.listSites()) {
    if (!site.retentionDays) continue
    const deleted = await store.deleteEventsBefore(site.id, now - site.retentionDays * DAY_MS)
    if (deleted) done.push({ domain: site.domain, deleted })
  }
  return done
}

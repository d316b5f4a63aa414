import { table } from '../reports/tables'
import type { AlertHook, AlertHookStatus, AlertLogEntry } from '../store/types'

/** A moment as the log prints it: UTC, to the second. */
const moment = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

/** What a hook alerts on, in words. */
export function describeHook(hook: AlertHook): string {
  if (hook.kind === 'stalled') return `once a day (UTC), the people in one stage of journey "${hook.journey}" for more than ${hook.stalledDays} days`
  const who = hook.owner === 'both' ? 'a person or company' : `a ${hook.owner}`
  return `when ${who} enters ${hook.stage} (journey "${hook.journey}")`
}

export function formatHooks(hooks: AlertHookStatus[], domainOf: (siteId: string) => string): string {
  if (!hooks.length) return 'No alert hooks yet: waymark alerts add --url https://… --stage decision'
  return table(
    ['id', 'site', 'alert', 'owner', 'url', 'added', 'queued', 'delivered', 'gave up'],
    hooks.map((h) => [
      h.id, domainOf(h.siteId), h.kind === 'stalled' ? `stalled > ${h.stalledDays} d, daily` : `enters ${h.stage}`, h.kind === 'stalled' ? 'person' : h.owner,
      h.url, moment(h.createdAt).slice(0, 10), h.pending, h.delivered, h.gaveUp,
    ]),
  )
}

/** What became of the alert after this attempt. */
function after(e: AlertLogEntry): string {
  if (e.attempt === 0) return e.nextAttemptAt === null ? '–' : `due ${moment(e.nextAttemptAt)}`
  if (!e.error) return 'delivered'
  if (e.attempt < e.attempts) return 'retried'
  if (e.gaveUpAt !== null) return 'gave up'
  return e.nextAttemptAt === null ? '–' : `retry ${moment(e.nextAttemptAt)}`
}

/** The delivery log as `waymark alerts log` prints it: the latest first. */
export function formatLog(entries: AlertLogEntry[]): string {
  if (!entries.length) return 'No alert queued yet. Alerts queue when someone enters a hooked stage (waymark alerts list).'
  return (
    'Alert deliveries, the latest first (times in UTC)\n\n' +
    table(
      ['when', 'hook', 'alert', 'owner', 'stage', 'attempt', 'result', 'then'],
      entries.map((e) => [
        moment(e.at),
        e.hookId,
        e.alertId,
        e.kind === 'stalled' ? `${e.stalled ?? 0} stalled` : (e.owner ?? (e.ownerId ? `${e.ownerType} ${e.ownerId}` : 'erased')),
        e.stage ?? 'stalled list',
        e.attempt || null,
        e.attempt === 0 ? 'queued' : (e.error ?? String(e.status)),
        after(e),
      ]),
    )
  )
}

import { STATUS_CODES } from 'node:http'
import { ulid } from 'ulid'
import { runReport } from '../reports'
import type { WaymarkConfig } from '../stages/config'
import type { AlertAttempt, AlertHookStatus, DueAlert, Store } from '../store/types'
import { stalledBody, type PersonFacts } from './body'
import { DELIVERY_HEADER, SIGNATURE_HEADER, signBody } from './signature'

export interface AlertWorkerOptions {
  /** How often the outbox is looked at for alerts due (default 1 s). */
  pollMs?: number
  /** How long one POST may take before it counts as failed (default 10 s). */
  timeoutMs?: number
  /** The first retry's delay, doubled for each one after (default 10 s)… */
  retryBaseMs?: number
  /** …up to this (default 1 h). */
  retryMaxMs?: number
  /** An alert not delivered this long after it was queued is given up (default 24 h). */
  giveUpAfterMs?: number
  /** How often stalled hooks are checked for the day's list (default 1 min). */
  stalledCheckMs?: number
  /** Alerts out at once, over all receivers (default 8). */
  concurrency?: number
  /** The clock (tests move it to another day). */
  now?: () => number
}

export const ALERT_DEFAULTS = {
  pollMs: 1000,
  timeoutMs: 10_000,
  retryBaseMs: 10_000,
  retryMaxMs: 3_600_000,
  giveUpAfterMs: 86_400_000,
  stalledCheckMs: 60_000,
  concurrency: 8,
}

/** How many of the stalled a daily alert lists (the longest stalled first); `total` counts them all. */
export const STALLED_LIST_LIMIT = 500

/** The delay before the retry that follows the `failures`-th failed attempt: base, 2 × base, 4 × base …, capped. */
export const retryDelay = (failures: number, baseMs: number, maxMs: number) => Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1))

/** Why an answer is not a delivery, in words. */
function statusError(response: Response): string {
  if (response.status >= 300 && response.status < 400)
    return `redirected (${response.status}) to ${response.headers.get('location') ?? 'nowhere'}: point the hook at the final address`
  return `${response.status} ${STATUS_CODES[response.status] ?? ''}`.trim()
}

/** A network failure in words: fetch's own message ("fetch failed") says little; its cause says what. */
function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const message = cause?.message || (error as Error).message || String(error)
  return cause?.code && !message.includes(cause.code) ? `${cause.code}: ${message}` : message
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * Delivers queued alerts: polls the outbox, POSTs each due alert signed, records every attempt,
 * and schedules a retry with backoff until it is delivered or given up. Each alert is leased
 * in the store while its attempt is out, so no two attempts of one alert overlap. Also queues
 * each stalled hook's daily list, once per UTC day (the outbox's key makes a second one a no-op).
 */
export function startAlertWorker(store: Store, config: WaymarkConfig, options: AlertWorkerOptions = {}, log: (message: string) => void = () => {}) {
  const o = { ...ALERT_DEFAULTS, ...options }
  const now = options.now ?? Date.now
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>()
  let stopping = false

  const attempt = async (alert: DueAlert, controller: AbortController) => {
    const timer = setTimeout(() => controller.abort('timeout'), o.timeoutMs)
    const at = now()
    const started = performance.now()
    let status: number | null = null
    let error: string | null = null
    try {
      const response = await fetch(alert.url, {
        method: 'POST',
        body: alert.body,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Waymark-Alerts',
          [SIGNATURE_HEADER]: signBody(alert.secret, alert.body, Math.floor(now() / 1000)),
          [DELIVERY_HEADER]: alert.id,
        },
        // A POST followed through a redirect may turn into a GET elsewhere: say so instead.
        redirect: 'manual',
        signal: controller.signal,
      })
      status = response.status
      await response.body?.cancel().catch(() => {})
      if (status < 200 || status > 299) error = statusError(response)
    } catch (caught) {
      error =
        controller.signal.reason === 'timeout' ? `timed out after ${o.timeoutMs / 1000} s`
          : controller.signal.reason === 'stop' ? 'cut off: the collector was stopping'
          : networkError(caught)
    } finally {
      clearTimeout(timer)
    }
    const ended = now()
    const failures = alert.attempts + 1
    let next: AlertAttempt['next']
    if (!error) next = { delivered: true }
    // Cut off by the stop, not refused: due again as soon as the collector is back.
    else if (controller.signal.reason === 'stop') next = { retryAt: ended }
    else {
      const retryAt = ended + retryDelay(failures, o.retryBaseMs, o.retryMaxMs)
      next = retryAt - alert.createdAt > o.giveUpAfterMs ? { gaveUp: true } : { retryAt }
    }
    await store.recordAlertAttempt(alert.id, { at, durationMs: performance.now() - started, status, error, next })
    if ('gaveUp' in next)
      log(`alert ${alert.id} of hook ${alert.hookId} to ${alert.url}: gave up after ${failures} attempts; the last: ${error} (waymark alerts log)`)
  }

  const poll = async () => {
    const free = o.concurrency - inFlight.size
    if (free <= 0) return
    const at = now()
    // Held past the attempt's own timeout, so that only a crash mid-attempt ever lets the lease run out.
    for (const alert of await store.claimAlerts(at, at + o.timeoutMs + 5000, free)) {
      if (inFlight.has(alert.id)) continue
      const controller = new AbortController()
      const done = attempt(alert, controller)
        .catch((error) => console.error(`waymark: recording alert ${alert.id}'s attempt failed; it is tried again when its lease runs out:`, error))
        .finally(() => inFlight.delete(alert.id))
      inFlight.set(alert.id, { controller, done })
    }
  }

  const queueStalled = async (hook: AlertHookStatus) => {
    const at = now()
    const day = utcDay(at)
    const report = await runReport(store, config, hook.siteId, 'funnel', { journey: hook.journey, stalledDays: String(hook.stalledDays), limit: String(STALLED_LIST_LIMIT) }, at)
    if (report.report !== 'funnel' || !('stalled' in report) || typeof report.stalled !== 'object') return
    const list = report.stalled
    const people = []
    for (const s of list.people) {
      const found = await store.findPerson(hook.siteId, { id: s.personId })
      const company = found?.company
      const person: PersonFacts = {
        id: s.personId,
        email: s.email,
        userId: s.userId,
        traits: Object.fromEntries(Object.entries(found?.traits ?? {}).map(([k, v]) => [k, v.value])),
        company: company ? { id: company.id, domain: company.domain, groupId: company.groupId, traits: Object.fromEntries(Object.entries(company.traits).map(([k, v]) => [k, v.value])) } : null,
      }
      people.push({ person, stage: s.stage, enteredAt: s.enteredAt, days: s.days, lastSeen: s.lastSeen })
    }
    const id = ulid(at)
    const body = stalledBody({ id, siteId: hook.siteId, journey: hook.journey, day, asOf: at, stalledDays: report.stalledDays, total: list.total, people })
    await store.enqueueAlert({ id, hookId: hook.id, subject: `day:${day}`, body, createdAt: at })
  }
  const checkStalled = async () => {
    const day = utcDay(now())
    for (const hook of await store.listAlertHooks()) {
      if (stopping) return
      if (hook.kind !== 'stalled' || hook.lastDay === day || !config.journeys.some((j) => j.name === hook.journey)) continue
      await queueStalled(hook).catch((error) => console.error(`waymark: the stalled list for alert hook ${hook.id} failed; trying again in a moment:`, error))
    }
  }

  // One pass of each at a time: a slow pass is not overlapped by the next tick.
  const every = (ms: number, work: () => Promise<void>, what: string) => {
    let running: Promise<void> | undefined
    const tick = () => {
      if (running || stopping) return
      running = work()
        .catch((error) => console.error(`waymark: ${what} failed; trying again:`, error))
        .finally(() => (running = undefined))
    }
    const timer = setInterval(tick, ms).unref()
    setImmediate(tick)
    return { stop: () => (clearInterval(timer), running) }
  }
  const polling = every(o.pollMs, poll, 'looking for alerts to deliver')
  const stalled = every(o.stalledCheckMs, checkStalled, 'queuing the daily stalled lists')

  return {
    /** Stops polling, cuts off the attempts out (each recorded, due again at the next start), and waits for them. */
    async stop() {
      stopping = true
      await Promise.all([polling.stop(), stalled.stop()])
      for (const { controller } of inFlight.values()) controller.abort('stop')
      await Promise.all([...inFlight.values()].map((a) => a.done))
    },
  }
}

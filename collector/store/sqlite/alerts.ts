import type Database from 'better-sqlite3'
import { ulid } from 'ulid'
import { stageEnteredBody, withoutPerson, type CompanyFacts, type PersonFacts } from '../../alerts/body'
import type { Journey } from '../../stages/config'
import type { StageEntry, StageTransition } from '../../stages/progress'
import type { AlertHook, AlertHookStatus, AlertLogEntry, DueAlert, Store } from '../types'
import type { Owner } from './journeys'

/** A hook as both engines store it. */
export interface HookRow {
  id: string
  site_id: string
  kind: AlertHook['kind']
  journey: string
  stage: string | null
  owner_type: AlertHook['owner']
  url: string
  secret: string
  stalled_days: number | null
  created_at: number
}
export const hookFromRow = (r: HookRow): AlertHook => ({
  id: r.id, siteId: r.site_id, kind: r.kind, journey: r.journey, stage: r.stage, owner: r.owner_type, url: r.url, secret: r.secret,
  stalledDays: r.stalled_days, createdAt: r.created_at,
})

/**
 * Stage alerts in SQLite: queued by the journey fold in the transaction that writes the stage
 * entries, so an entry and its alert commit together; the outbox's UNIQUE (hook, subject) keeps an
 * entry written again (a refold, a rebuild) from alerting twice.
 */
export function sqliteAlerts(db: Database.Database) {
  const statements = {
    stageHooks: db.prepare(`SELECT id, owner_type, stage, created_at FROM alert_hooks WHERE site_id = ? AND journey = ? AND kind = 'stage'`),
    // By owner rather than subject: a merged-away person's alerts are their new person's.
    queued: db.prepare('SELECT 1 FROM alert_outbox WHERE owner_type = ? AND owner_id = ? AND hook_id = ?').pluck(),
    renameOwner: db.prepare(`UPDATE alert_outbox SET owner_id = ? WHERE owner_type = 'person' AND owner_id = ?`),
    insert: db.prepare(
      `INSERT OR IGNORE INTO alert_outbox (id, hook_id, site_id, subject, owner_type, owner_id, stage, body, created_at, next_attempt_at)
       VALUES (@id, @hookId, @siteId, @subject, @ownerType, @ownerId, @stage, @body, @createdAt, @createdAt)`,
    ),
    person: db.prepare('SELECT id, email, user_id, company_id FROM people WHERE id = ?'),
    company: db.prepare('SELECT id, domain, group_id FROM companies WHERE id = ?'),
    traits: db.prepare('SELECT key, value FROM traits WHERE subject_id = ?'),
    personOfSession: db.prepare(
      `SELECT identities.person_id FROM sessions JOIN identities ON identities.site_id = sessions.site_id AND identities.visitor_id = sessions.visitor_id
       WHERE sessions.id = ?`,
    ).pluck(),
    insertHook: db.prepare(
      `INSERT INTO alert_hooks (id, site_id, kind, journey, stage, owner_type, url, secret, stalled_days, created_at)
       VALUES (@id, @siteId, @kind, @journey, @stage, @owner, @url, @secret, @stalledDays, @createdAt)`,
    ),
    hooks: db.prepare(
      `SELECT h.*,
         (SELECT count(*) FROM alert_outbox o WHERE o.hook_id = h.id AND o.next_attempt_at IS NOT NULL) AS pending,
         (SELECT count(*) FROM alert_outbox o WHERE o.hook_id = h.id AND o.delivered_at IS NOT NULL) AS delivered,
         (SELECT count(*) FROM alert_outbox o WHERE o.hook_id = h.id AND o.gave_up_at IS NOT NULL) AS gave_up,
         (SELECT max(substr(o.subject, 5)) FROM alert_outbox o WHERE o.hook_id = h.id AND o.subject LIKE 'day:%') AS last_day
       FROM alert_hooks h WHERE @site IS NULL OR h.site_id = @site ORDER BY h.created_at, h.id`,
    ),
    due: db.prepare(
      `SELECT o.id, o.hook_id AS hookId, h.url, h.secret, o.body, o.attempts, o.created_at AS createdAt
       FROM alert_outbox o JOIN alert_hooks h ON h.id = o.hook_id
       WHERE o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at LIMIT ?`,
    ),
    lease: db.prepare('UPDATE alert_outbox SET next_attempt_at = ? WHERE id = ?'),
    attempted: db.prepare(
      `UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = @next, delivered_at = @delivered, gave_up_at = @gaveUp
       WHERE id = @id RETURNING attempts`,
    ).pluck(),
    logAttempt: db.prepare('INSERT INTO alert_deliveries (outbox_id, attempt, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)'),
    log: db.prepare(
      `SELECT a.*, h.kind, coalesce(p.email, p.user_id, c.domain, c.group_id) AS owner,
         CASE WHEN h.kind = 'stalled' THEN json_extract(o.body, '$.total') END AS stalled,
         o.hook_id AS hookId, o.site_id AS siteId, o.stage, o.owner_type AS ownerType, o.owner_id AS ownerId, o.attempts,
         o.next_attempt_at AS nextAttemptAt, o.delivered_at AS deliveredAt, o.gave_up_at AS gaveUpAt
       FROM (
         SELECT at, outbox_id AS alertId, attempt, status, error, duration_ms AS durationMs FROM alert_deliveries
         UNION ALL
         SELECT created_at, id, 0, NULL, NULL, NULL FROM alert_outbox WHERE attempts = 0
       ) a
       JOIN alert_outbox o ON o.id = a.alertId
       JOIN alert_hooks h ON h.id = o.hook_id
       LEFT JOIN people p ON o.owner_type = 'person' AND p.id = o.owner_id
       LEFT JOIN companies c ON o.owner_type = 'company' AND c.id = o.owner_id
       WHERE @site IS NULL OR o.site_id = @site
       ORDER BY a.at DESC, a.attempt DESC LIMIT @limit`,
    ),
    outboxOfHook: db.prepare('SELECT id FROM alert_outbox WHERE hook_id = ?').pluck(),
    pendingOfHook: db.prepare('SELECT count(*) FROM alert_outbox WHERE hook_id = ? AND next_attempt_at IS NOT NULL').pluck(),
    deleteHook: db.prepare('DELETE FROM alert_hooks WHERE id = ?'),
    deleteAlert: db.prepare('DELETE FROM alert_outbox WHERE id = ?'),
    deleteAttempts: db.prepare('DELETE FROM alert_deliveries WHERE outbox_id = ?'),
    ownAlerts: db.prepare(`SELECT id FROM alert_outbox WHERE owner_type = 'person' AND owner_id = ?`).pluck(),
    mentioning: db.prepare('SELECT id, body FROM alert_outbox WHERE site_id = ? AND instr(body, ?) > 0'),
    setBody: db.prepare('UPDATE alert_outbox SET body = ? WHERE id = ?'),
  }

  const traitsOf = (subjectId: string) =>
    Object.fromEntries((statements.traits.all(subjectId) as { key: string; value: string }[]).map((r) => [r.key, JSON.parse(r.value)]))
  const companyFacts = (id: string | null): CompanyFacts | null => {
    const row = id ? (statements.company.get(id) as { id: string; domain: string | null; group_id: string | null } | undefined) : undefined
    return row ? { id: row.id, domain: row.domain, groupId: row.group_id, traits: traitsOf(row.id) } : null
  }
  const personFacts = (id: string | null | undefined): PersonFacts | null => {
    const row = id ? (statements.person.get(id) as { id: string; email: string | null; user_id: string | null; company_id: string | null } | undefined) : undefined
    return row ? { id: row.id, email: row.email, userId: row.user_id, traits: traitsOf(row.id), company: companyFacts(row.company_id) } : null
  }
  const forgetAlert = (id: string) => {
    statements.deleteAttempts.run(id)
    statements.deleteAlert.run(id)
  }

  const claim = db.transaction((now: number, leaseUntil: number, limit: number) => {
    const due = statements.due.all(now, limit) as DueAlert[]
    for (const alert of due) statements.lease.run(leaseUntil, alert.id)
    return due
  })
  const record = db.transaction((id: string, attempt: Parameters<Store['recordAlertAttempt']>[1]) => {
    const { next } = attempt
    const attempts = statements.attempted.get({
      id,
      next: 'retryAt' in next ? next.retryAt : null,
      // Whole milliseconds, as every time is kept (the duration is measured finer).
      delivered: 'delivered' in next ? Math.round(attempt.at + attempt.durationMs) : null,
      gaveUp: 'gaveUp' in next ? Math.round(attempt.at + attempt.durationMs) : null,
    }) as number | undefined
    // Its hook was removed while the attempt was out: nothing to record it under.
    if (attempts === undefined) return
    statements.logAttempt.run(id, attempts, attempt.at, attempt.status, attempt.error, Math.round(attempt.durationMs))
  })
  const removeHook = db.transaction((id: string) => {
    if (!statements.deleteHook.run(id).changes) return
    const dropped = statements.pendingOfHook.get(id) as number
    for (const alert of statements.outboxOfHook.all(id) as string[]) forgetAlert(alert)
    return { dropped }
  })

  return {
    /**
     * Queues the alerts an owner's stage entries in one journey call for: one per matching hook
     * whose stage the owner entered at or after the hook was made, unless queued before. Runs
     * inside the fold's transaction. Anonymous visitors alert nothing: they alert as the person
     * they become, whose stages are folded anew when they do.
     */
    queueStageAlerts(owner: Owner, journey: Journey, entries: StageEntry[], transitions: StageTransition[], score: number) {
      if (owner.type === 'visitor') return
      const hooks = statements.stageHooks.all(owner.siteId, journey.name) as { id: string; owner_type: string; stage: string; created_at: number }[]
      if (!hooks.length) return
      const subject = `${owner.type}:${owner.id}`
      const order = journey.stages.map((s) => s.name)
      // The stage the owner was at before the move that entered this one (a move may enter several).
      const fromOf = (stage: string) => {
        const i = order.indexOf(stage)
        return transitions.find((t) => (t.from === null ? -1 : order.indexOf(t.from)) < i && i <= order.indexOf(t.to))?.from ?? null
      }
      for (const hook of hooks) {
        if (hook.owner_type !== 'both' && hook.owner_type !== owner.type) continue
        const entry = entries.find((e) => e.stage === hook.stage)
        if (!entry || entry.at < hook.created_at || statements.queued.get(owner.type, owner.id, hook.id)) continue
        const id = ulid()
        const person = owner.type === 'person' ? personFacts(owner.id) : null
        const company = owner.type === 'company' ? companyFacts(owner.id) : null
        if (!person && !company) continue
        const body = stageEnteredBody({
          id,
          siteId: owner.siteId,
          journey: journey.name,
          stage: entry.stage,
          from: fromOf(entry.stage),
          at: entry.at,
          touch: { sessionId: entry.sessionId, channel: entry.channel, campaign: entry.campaign, page: entry.page },
          score: person ? score : null,
          owner: person ? { type: 'person', person } : { type: 'company', company: company!, movedBy: personFacts(statements.personOfSession.get(entry.sessionId) as string | undefined) },
        })
        statements.insert.run({ id, hookId: hook.id, siteId: owner.siteId, subject, ownerType: owner.type, ownerId: owner.id, stage: entry.stage, body, createdAt: Date.now() })
      }
    },

    /**
     * A person merged into another: their alerts become the other's, so the merged person's
     * refold does not alert again for a stage one of them was alerted for, and erasing them
     * erases these too.
     */
    renamePerson(fromId: string, toId: string) {
      statements.renameOwner.run(toId, fromId)
    },

    /**
     * Takes an erased person out of every alert: theirs go, others (a company's, a stalled list)
     * lose their line. Found by id, email or user id: a body made before a merge names the
     * person by the id they had then.
     */
    forgetPerson(siteId: string, person: { id: string; email: string | null; userId: string | null }) {
      for (const id of statements.ownAlerts.all(person.id) as string[]) forgetAlert(id)
      const keys = [person.id, person.email, person.userId].filter((key): key is string => Boolean(key))
      const rows = new Map<string, string>()
      for (const key of keys) for (const { id, body } of statements.mentioning.all(siteId, key) as { id: string; body: string }[]) rows.set(id, body)
      for (const [id, body] of rows) {
        const kept = withoutPerson(body, (p) => p.id === person.id || (person.email !== null && p.email === person.email) || (person.userId !== null && p.userId === person.userId))
        if (kept === null) forgetAlert(id)
        else if (kept !== body) statements.setBody.run(kept, id)
      }
    },

    store: {
      async addAlertHook(hook) {
        statements.insertHook.run({ ...hook })
      },
      async listAlertHooks(siteId) {
        return (statements.hooks.all({ site: siteId ?? null }) as (HookRow & { pending: number; delivered: number; gave_up: number; last_day: string | null })[]).map(
          (r): AlertHookStatus => ({ ...hookFromRow(r), pending: r.pending, delivered: r.delivered, gaveUp: r.gave_up, lastDay: r.last_day }),
        )
      },
      async removeAlertHook(id) {
        return removeHook(id)
      },
      async enqueueAlert(alert) {
        const hook = db.prepare('SELECT site_id FROM alert_hooks WHERE id = ?').pluck().get(alert.hookId) as string | undefined
        if (!hook) return false
        return statements.insert.run({ ...alert, siteId: hook, ownerType: null, ownerId: null, stage: null }).changes === 1
      },
      async claimAlerts(now, leaseUntil, limit) {
        return claim(now, leaseUntil, limit)
      },
      async recordAlertAttempt(id, attempt) {
        record(id, attempt)
      },
      async alertLog({ siteId, limit }) {
        return statements.log.all({ site: siteId ?? null, limit }) as AlertLogEntry[]
      },
    } satisfies Pick<Store, 'addAlertHook' | 'listAlertHooks' | 'removeAlertHook' | 'enqueueAlert' | 'claimAlerts' | 'recordAlertAttempt' | 'alertLog'>,
  }
}

import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startWaymark, waymark } from '../browser/processes'
import { receiver, sleep, verify } from './alerts-receiver'
import { batch, CHROME_UA, demoRequest, pageview } from './helpers'

/** The outbox as the SQLite file has it, read beside the running (or killed) collector. */
function outbox(db: string) {
  const file = new Database(db, { readonly: true })
  try {
    return file.prepare('SELECT id, attempts, delivered_at FROM alert_outbox').all() as { id: string; attempts: number; delivered_at: number | null }[]
  } finally {
    file.close()
  }
}

describe('Stage alerts from the command line, across SIGKILL and a rebuild', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-alerts-'))
  const db = join(dir, 'waymark.db')
  let siteId: string
  let receiverPort: number
  let hook: { id: string; secret: string }
  beforeAll(async () => {
    siteId = /site id +(\S+)/.exec(await waymark('site', 'add', 'localhost', '--db', db))![1]
    receiverPort = await freePort()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('adds, lists and removes hooks, and refuses what it cannot alert on, saying what to do', async () => {
    const url = `http://127.0.0.1:${receiverPort}/hooks/waymark`
    await expect(waymark('alerts', 'add', '--url', 'ftp://hooks.example.com', '--stage', 'decision', '--db', db)).rejects.toThrow(/--url "ftp:\/\/hooks.example.com" must be an http:\/\/ or https:\/\/ address/)
    await expect(waymark('alerts', 'add', '--url', url, '--stage', 'decsion', '--db', db)).rejects.toThrow(/no stage "decsion" in journey "b2b": its stages are awareness, consideration, decision/)
    await expect(waymark('alerts', 'add', '--url', url, '--stage', 'decision', '--journey', 'b2c', '--db', db)).rejects.toThrow(/no journey "b2c"/)
    await expect(waymark('alerts', 'add', '--url', url, '--stage', 'decision', '--site', 'nope', '--db', db)).rejects.toThrow(/no site "nope"/)

    const added = await waymark('alerts', 'add', '--url', url, '--stage', 'decision', '--db', db)
    expect(added).toMatch(/Added alert hook \S+ for localhost: POST to http:\/\/127\.0\.0\.1:\d+\/hooks\/waymark when a person enters decision \(journey "b2b"\)/)
    hook = { id: /Added alert hook (\S+)/.exec(added)![1], secret: /signing secret +(whsec_\S+)/.exec(added)![1] }
    const stalled = await waymark('alerts', 'add', '--url', 'https://hooks.example.com/stalled', '--stalled', '--stalled-days', '14', '--db', db)
    expect(stalled).toMatch(/once a day \(UTC\), the people in one stage of journey "b2b" for more than 14 days/)
    const stalledId = /Added alert hook (\S+)/.exec(stalled)![1]

    const list = await waymark('alerts', 'list', '--db', db)
    expect(list).toMatch(new RegExp(`^${hook.id} +localhost +enters decision +person +${url.replace(/[./]/g, '\\$&')} `, 'm'))
    expect(list).toMatch(new RegExp(`^${stalledId} +localhost +stalled > 14 d, daily +person +https://hooks\\.example\\.com/stalled `, 'm'))
    expect(list).not.toContain(hook.secret)

    expect(await waymark('alerts', 'remove', stalledId, '--db', db)).toMatch(`Removed alert hook ${stalledId}`)
    await expect(waymark('alerts', 'remove', stalledId, '--db', db)).rejects.toThrow(/no alert hook "\S+": the ids are in waymark alerts list/)
    expect(await waymark('alerts', 'list', '--db', db)).not.toContain(stalledId)
    expect(await waymark('alerts', 'log', '--db', db)).toMatch(/No alert queued yet/)
  })

  it('delivers an alert queued before a SIGKILL after the restart, once, and not again after a rebuild', async () => {
    const port = await freePort()
    const args = ['--db', db, '--port', String(port), '--host', '127.0.0.1']
    const send = (visitor: string, events: unknown[]) =>
      fetch(`http://127.0.0.1:${port}/e`, {
        method: 'POST',
        body: JSON.stringify(batch(siteId, events, { v: visitor })),
        headers: { 'Content-Type': 'text/plain', Origin: 'http://localhost', 'User-Agent': CHROME_UA },
      }).then((response) => expect(response.status).toBe(200))

    // The receiver is down: the stage change commits with its alert, and the first attempt is refused.
    let collector = await startWaymark(args)
    const visitor = ulid()
    await send(visitor, demoRequest('http://localhost', 'ada@acme.io', { firstName: 'Ada' }))
    const until = Date.now() + 10_000
    while (!outbox(db).some((row) => row.attempts >= 1) && Date.now() < until) await sleep(50)
    expect(outbox(db)).toMatchObject([{ attempts: 1, delivered_at: null }])
    collector.process.kill('SIGKILL')
    await new Promise((resolve) => collector.process.once('exit', resolve))

    // Back up, with the receiver up: the retry (10 s after the refused attempt) delivers it.
    const r = await receiver(undefined, receiverPort)
    collector = await startWaymark(args)
    await r.waitFor(1, 20_000)
    const [{ headers, raw, body }] = r.received
    expect(verify(hook.secret, headers['waymark-signature'] as string, raw)).toBe(true)
    expect(body).toMatchObject({ type: 'stage.entered', id: outbox(db)[0].id, stage: 'decision', from: 'consideration', owner: { email: 'ada@acme.io', name: 'Ada' } })
    expect(headers['waymark-delivery']).toBe(body.id)
    await collector.stop()

    // Every stage recomputed from the events: the entry is written again, and alerts no second time.
    expect(await waymark('rebuild', '--db', db)).toMatch(/Rebuilt sessions and stages of 1 site/)
    collector = await startWaymark(args)
    await send(visitor, [pageview({ u: 'http://localhost/pricing' }), { id: ulid(), k: 'c', t: Date.now(), u: 'http://localhost/contact', n: 'mailto:sales@localhost' }])
    await sleep(2500)
    await collector.stop()
    expect(r.received).toHaveLength(1)
    expect(outbox(db)).toHaveLength(1)

    const log = await waymark('alerts', 'log', '--db', db)
    expect(log).toMatch(new RegExp(`^\\S+ \\S+ +${hook.id} +${body.id} +ada@acme\\.io +decision +2 +200 +delivered$`, 'm'))
    expect(log).toMatch(new RegExp(`^\\S+ \\S+ +${hook.id} +${body.id} +ada@acme\\.io +decision +1 +connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+ +retried$`, 'm'))
    expect(await waymark('alerts', 'list', '--db', db)).toMatch(new RegExp(`^${hook.id} .* 0 +1 +0$`, 'm'))
    await r.close()

    expect(await waymark('alerts', 'remove', hook.id, '--db', db)).toMatch(`Removed alert hook ${hook.id}`)
    expect(await waymark('alerts', 'list', '--db', db)).toMatch(/No alert hooks yet/)
  }, 90_000)
})

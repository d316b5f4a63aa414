import Database from 'better-sqlite3'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { launchChromium } from './chromium'
import { freePort, servePages, startWaymark, waymark } from './processes'

/**
 * What the README tells a site owner to do, for real: `waymark site add localhost`, `waymark
 * start`, the printed tag pasted into a site's pages (served from another port), and Debian's
 * Chromium to visit them.
 */
export async function trackedSite(pages: (tag: string) => Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-browser-'))
  const db = join(dir, 'waymark.db')
  const port = await freePort()
  const added = await waymark('site', 'add', 'localhost', '--db', db, '--port', String(port))
  const tag = added.match(/<script[^>]*><\/script>/)![0]
  const collector = await startWaymark(['--port', String(port), '--db', db])
  const site = await servePages(pages(tag))
  const browser: Browser = await launchChromium()
  const readToken = /read token +(\S+)/.exec(added)![1]

  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const connection = new Database(db, { readonly: true })
    try {
      return connection.prepare(sql).all(...params) as T[]
    } finally {
      connection.close()
    }
  }

  return {
    tag,
    url: site.url,
    /** The collector's own address (its dashboard at /), and the read token `site add` printed. */
    collectorUrl: `http://localhost:${port}`,
    readToken,
    browser,
    query,
    /** A report of the collector's read API, as JSON; fails loudly on anything but 200. */
    async report<T>(name: string, query = ''): Promise<T> {
      const response = await fetch(`http://localhost:${port}/api/reports/${name}?${query}`, { headers: { Authorization: `Bearer ${readToken}` } })
      if (response.status !== 200) throw new Error(`GET /api/reports/${name} answered ${response.status}: ${await response.text()}`)
      return response.json() as Promise<T>
    },
    /** A new tab on the collector's dashboard, signed in with the site's read token. */
    async dashboard() {
      const board = await (await browser.newContext()).newPage()
      await board.goto(`http://localhost:${port}`)
      await board.fill('input[name=token]', readToken)
      await board.click('button[type=submit]')
      await board.waitForSelector('[data-stage=awareness]')
      return board
    },
    /** Polls until the query returns at least `count` rows (or time runs out), and returns them. */
    async waitFor<T>(count: number, sql: string, ...params: unknown[]): Promise<T[]> {
      const deadline = Date.now() + 15_000
      for (;;) {
        const rows = query<T>(sql, ...params)
        if (rows.length >= count || Date.now() > deadline) return rows
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    /** The database's bytes on disk, the write-ahead log included. */
    databaseBytes: () =>
      [db, `${db}-wal`].map((file) => {
        try {
          return readFileSync(file).toString('latin1')
        } catch {
          return ''
        }
      }).join(''),
    async close() {
      await browser.close()
      await collector.stop()
      site.server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A page with the pasted tag in its head. */
export const page = (tag: string, title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title>${tag}</head><body>${body}</body></html>`

export const snippetLoaded = () => typeof (window as { waymark?: unknown }).waymark === 'function'

import { createWriteStream } from 'node:fs'
import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { newHook } from '../alerts/hooks'
import { describeHook, formatHooks, formatLog } from '../alerts/tables'
import { resolveConfig, type ConfigFlags } from '../config'
import { exportRows, parseExport } from '../export/export'
import { runReport } from '../reports'
import { formatReport } from '../reports/tables'
import { startCollector } from '../server'
import { normalizeEmail } from '../identity/free-mail'
import { addSite, hashSecret, newAdminToken, newReadToken, newWriteKey, scriptTag } from '../sites'
import type { Site, SiteSettings } from '../store/types'
import { describeStore, openStore } from '../store/open'
import { migrateToClickHouse } from '../store/clickhouse/migrate'
import { runProcessor } from '../store/clickhouse/processor'

const USAGE = `Usage: waymark <command> [options]

Commands:
  start                 run the collector
  site add <domain>     add a site; prints its id, its secret keys and the <script> tag to paste
  site list             list the sites
  site set <site>       change a site's settings: --retention-days <n|off>, --privacy-signals <on|off>
  site admin-token <site>
                        make a new admin token for a site (the old one stops working)
  site read-token <site>, site write-key <site>
                        the same for the read token or the write key (a leaked one is revoked this way)
  person delete <email|user id>
                        erase a person: their events, sessions, stage history, identity and traits
  rebuild               recompute every session and journey stage from the stored events
  migrate --to <url>    copy this SQLite installation's sites and events (--db) to ClickHouse
                        (clickhouse://host:8123/database); resumes where an interrupted copy stopped, and checks
                        each site's count of events on both sides
  process               with --store clickhouse://…: fold the events every collector writes into sessions, people
                        and stages (one runs at a time; start a second anywhere to take over if the first dies;
                        --work <file>: its working SQLite file, default ./data/processor.db)
  export <what>         write sessions, events, people, companies, transitions, or a report's rows (content, ctas,
                        length, accounts, paths, cohorts) as CSV, NDJSON or Parquet
                        (to --out, or standard output)
  report <name>         print a report as tables: funnel, sources, forms, content, ctas, length, accounts, paths,
                        cohorts, people, companies or timeline
                        (--json: as JSON)
  alerts add --url <url> --stage <name>
                        POST a signed alert to the URL when a person enters the stage (--owner company or both:
                        companies too); prints the signing secret, once
  alerts add --url <url> --stalled
                        POST the people stalled in the journey, once a day (--stalled-days: default 30)
  alerts list           list the alert hooks, with how many alerts each queued, delivered, gave up
  alerts remove <id>    remove an alert hook, and the alerts it has not delivered yet
  alerts log            the latest delivery attempts: when, whom, the receiver's answer, the next retry (--limit, default 50)

Options:
  --port <n>            port to listen on (PORT; default 8787)
  --host <addr>         address to listen on (HOST; default all)
  --db <path>           SQLite database file (WAYMARK_DB; default ./data/waymark.db)
  --store <url>         clickhouse://host:8123/database: keep events and journeys in ClickHouse, shared by many
                        collectors (WAYMARK_STORE; default sqlite, the --db file)
  --url <url>           the collector's public address, for the tag (WAYMARK_URL; default http://localhost:<port>)
  --config <path>       journeys and session timeout (WAYMARK_CONFIG; default ./waymark.config.json if present)

Export and report options:
  --site <id>           which site (default: the only one)
  --from <date>         start of the range, inclusive: 2026-01-01 (midnight UTC) or 2026-01-01T09:00:00Z
  --to <date>           end of the range, exclusive
  --journey <name>      which journey (default: the first configured)
  --format <f>          export: csv (default), ndjson or parquet
  --stage <name>        export: only rows at this stage (sessions, people, companies, transitions);
                        people and companies reports: only those at this stage
  --out <file>          export: write here rather than to standard output
  --stalled-days <n>    funnel: days in one stage that count as stalled (default 30)
  --limit <n>           funnel: stalled people to list; content and ctas: rows per list (default 50)
  --members <n>         accounts: people listed per account, the most telling first (default all)
  --goal <stage>        content, accounts, paths: the stage that counts as converting (default decision)
  --segment <k=v>       any report: only people and companies whose traits match, repeatable:
                        --segment company.industry=software --segment person.role=cto|cfo
                        --segment company.employees=50..500
  --email, --person, --user-id, --company, --domain
                        timeline: whose
  --json                report: print JSON rather than tables

Alert options:
  --url <url>           where to POST: an http:// or https:// address
  --stage <name>        the stage whose entry alerts; --journey <name>: of which journey (default: the first configured)
  --owner <who>         person (default), company or both
  --stalled             the daily list of stalled people rather than a stage; --stalled-days <n> (default 30)
  --site <id>           which site (default: the only one); list and log: only this site's
  --limit <n>           log: how many lines (default 50)
`

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  db: { type: 'string' },
  store: { type: 'string' },
  work: { type: 'string' },
  url: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  site: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  journey: { type: 'string' },
  format: { type: 'string' },
  stage: { type: 'string' },
  out: { type: 'string' },
  'stalled-days': { type: 'string' },
  limit: { type: 'string' },
  members: { type: 'string' },
  goal: { type: 'string' },
  segment: { type: 'string', multiple: true },
  email: { type: 'string' },
  person: { type: 'string' },
  'user-id': { type: 'string' },
  company: { type: 'string' },
  domain: { type: 'string' },
  json: { type: 'boolean' },
  'retention-days': { type: 'string' },
  'privacy-signals': { type: 'string' },
  owner: { type: 'string' },
  stalled: { type: 'boolean' },
} as const

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

/** The site named by --site (id or domain), or the only one. */
function pickSite(sites: Site[], named: string | undefined, dbPath: string): Site {
  const site = named ? sites.find((s) => s.id === named || s.domain === named) : sites.length === 1 ? sites[0] : undefined
  if (site) return site
  const known = sites.map((s) => `${s.id} (${s.domain})`).join(', ')
  throw new Error(
    named ? `no site "${named}" in ${dbPath}${known ? `: the sites are ${known}` : ''}`
      : sites.length ? `say which site with --site: ${known}` : `no site in ${dbPath} yet: npx waymark site add example.com`,
  )
}

/** Opens the store for reading, and picks the site: the one named, or the only one. */
async function openForReading(flags: Flags) {
  const config = resolveConfig(flags)
  // A running collector owns rebuilds; reading never starts one.
  const store = await openStore(config, { config: config.journeys, checkJourneys: false })
  try {
    return { store, site: pickSite(await store.listSites(), flags.site, config.dbPath), journeys: config.journeys }
  } catch (error) {
    await store.close()
    throw error
  }
}

async function alertsCommand(args: string[], flags: Flags) {
  const config = resolveConfig(flags)
  // Beside a running collector: hooks are rows it reads as it goes; this never recomputes stages.
  const store = await openStore(config, { config: config.journeys, checkJourneys: false })
  try {
    const sites = await store.listSites()
    const only = flags.site === undefined ? undefined : pickSite(sites, flags.site, config.dbPath).id
    if (args[0] === 'add') {
      const site = pickSite(sites, flags.site, config.dbPath)
      const hook = newHook(config.journeys, {
        siteId: site.id, url: flags.url, stage: flags.stage, stalled: flags.stalled, journey: flags.journey, owner: flags.owner, stalledDays: flags['stalled-days'],
      })
      await store.addAlertHook(hook)
      console.log(`Added alert hook ${hook.id} for ${site.domain}: POST to ${hook.url} ${describeHook(hook)}
  signing secret  ${hook.secret}    (secret: check each alert's Waymark-Signature with it; shown only now)

${hook.kind === 'stage' ? 'Stage entries from now on alert, each once; earlier ones do not.' : 'The first list goes within a minute, then one each UTC day.'} A running collector sends them (on ClickHouse, waymark process); waymark alerts log shows each attempt.`)
    } else if (args[0] === 'list') {
      const domains = new Map(sites.map((s) => [s.id, s.domain]))
      console.log(formatHooks(await store.listAlertHooks(only), (id) => domains.get(id) ?? id))
    } else if (args[0] === 'remove') {
      if (!args[1]) throw new Error('say which hook: waymark alerts remove <id> (the ids are in waymark alerts list)')
      const removed = await store.removeAlertHook(args[1])
      if (!removed) throw new Error(`no alert hook "${args[1]}": the ids are in waymark alerts list`)
      console.log(`Removed alert hook ${args[1]}${removed.dropped ? `; ${removed.dropped} alert(s) not yet delivered will not be` : ''}`)
    } else if (args[0] === 'log') {
      const limit = flags.limit === undefined ? 50 : Number(flags.limit)
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit "${flags.limit}" must be a whole number, 1 or more`)
      console.log(formatLog(await store.alertLog({ siteId: only, limit })))
    } else throw new Error(`unknown alerts command "${args[0] ?? ''}": use alerts add, list, remove or log`)
  } finally {
    await store.close()
  }
}

async function personCommand(args: string[], flags: Flags) {
  if (args[0] !== 'delete' || !args[1]) throw new Error('use: waymark person delete <email or user id> [--site <site>]')
  const { store, site } = await openForReading(flags)
  try {
    const key = args[1]
    const email = normalizeEmail(key)
    const erased = (email && (await store.erasePerson(site.id, { email }))) || (await store.erasePerson(site.id, { userId: key }))
    if (!erased) throw new Error(`no person with email or user id "${key}" on ${site.domain}`)
    console.log(`Erased person ${erased.personId} from ${site.domain}: ${erased.events} events, ${erased.sessions} sessions, ${erased.visitorIds} browser ids, their stage history, identity and traits`)
  } finally {
    await store.close()
  }
}

async function exportCommand(dataset: string | undefined, flags: Flags) {
  const { store, site, journeys } = await openForReading(flags)
  try {
    const request = parseExport(site.id, journeys, { dataset, format: flags.format, from: flags.from, to: flags.to, journey: flags.journey, stage: flags.stage })
    const out = flags.out ? createWriteStream(flags.out) : process.stdout
    try {
      await pipeline(Readable.from(exportRows(store, request)), out, { end: Boolean(flags.out) })
    } catch (error) {
      // A reader that stops early (| head) is not a failure.
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error
      return
    }
    if (flags.out) console.error(`Wrote ${request.dataset} of ${site.domain} to ${flags.out} (${request.format})`)
  } finally {
    await store.close()
  }
}

/** --segment company.industry=software, as the URL's company.industry=software. */
function segmentParams(segments: string[]): Record<string, string> {
  return Object.fromEntries(
    segments.map((segment) => {
      const at = segment.indexOf('=')
      if (!/^(company|person)\./.test(segment) || at < 0) throw new Error(`--segment ${segment}: give company.<trait>=<value> or person.<trait>=<value>, such as company.industry=software`)
      return [segment.slice(0, at), segment.slice(at + 1)]
    }),
  )
}

async function reportCommand(name: string | undefined, flags: Flags) {
  const { store, site, journeys } = await openForReading(flags)
  try {
    const report = await runReport(store, journeys, site.id, name ?? '', {
      from: flags.from, to: flags.to, journey: flags.journey, stage: flags.stage, stalledDays: flags['stalled-days'], limit: flags.limit, members: flags.members, goal: flags.goal,
      email: flags.email, person: flags.person, userId: flags['user-id'], company: flags.company, domain: flags.domain,
      ...segmentParams(flags.segment ?? []),
    })
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report))
  } finally {
    await store.close()
  }
}

async function start(flags: ConfigFlags) {
  const config = resolveConfig(flags)
  const collector = await startCollector({ ...config, log: console.log })
  console.log(`Waymark collector listening on ${config.publicUrl} (${describeStore(config)})`)
  console.log(`Journeys: ${config.journeys.journeys.map((j) => j.name).join(', ')} (from ${config.journeysSource})`)
  const sites = await collector.store.listSites()
  if (sites.length === 0) console.log('No site yet. Add one, and paste the tag it prints:\n  npx waymark site add example.com')
  else for (const site of sites) console.log(`  site ${site.id}  ${site.domain}`)

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: finishing accepted requests, then stopping`)
    await collector.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

async function rebuild(flags: ConfigFlags) {
  const config = resolveConfig(flags)
  const started = Date.now()
  const store = await openStore(config, { config: config.journeys })
  try {
    const { sites, visitors } = await store.rebuild()
    console.log(`Rebuilt sessions and stages of ${sites} site(s), ${visitors} people and visitors, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await store.close()
  }
}

async function processCommand(flags: Flags) {
  const config = resolveConfig(flags)
  if (!config.storeUrl) throw new Error('waymark process folds the events of a ClickHouse store: give --store clickhouse://host:8123/database (or WAYMARK_STORE)')
  const stop = new AbortController()
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort())
  const workPath = resolve(flags.work ?? process.env.WAYMARK_WORK ?? './data/processor.db')
  console.log(`Waymark processor for ${describeStore(config)} (working file ${workPath})`)
  await runProcessor({ storeUrl: config.storeUrl, workPath, config: config.journeys, signal: stop.signal, log: console.log })
}

async function migrateCommand(flags: Flags) {
  const config = resolveConfig(flags)
  if (!flags.to || !/^clickhouses?:\/\//.test(flags.to)) throw new Error('say where to: waymark migrate --to clickhouse://host:8123/database')
  const stop = new AbortController()
  process.once('SIGINT', () => (console.log('SIGINT: stopping after this chunk; run the same command again to resume'), stop.abort()))
  const started = Date.now()
  const result = await migrateToClickHouse({ dbPath: config.dbPath, storeUrl: flags.to, signal: stop.signal, log: console.log })
  for (const c of result.counts)
    console.log(`  ${c.domain} (${c.siteId}): ${c.sqlite} events in SQLite, ${c.clickhouse} in ClickHouse${c.sqlite === c.clickhouse ? '' : '  MISMATCH'}`)
  if (!result.complete) return console.log(`Stopped after copying ${result.copied} events: run the same command to resume.`)
  const mismatched = result.counts.filter((c) => c.sqlite !== c.clickhouse)
  if (mismatched.length) throw new Error(`the counts differ for ${mismatched.map((c) => c.domain).join(', ')}: run the same command again, then check the ClickHouse server's log`)
  console.log(`Copied ${result.copied} events of ${result.sites} site(s) in ${((Date.now() - started) / 1000).toFixed(1)} s; every count matches.
Next: point the collectors at it (waymark start --store ${flags.to}) and run one waymark process: it folds the copied history into sessions and stages.`)
}

/** Commands that replace one of a site's secrets. */
const NEW_SECRET: Record<string, { name: string; make: () => string; hash: 'writeKeyHash' | 'readTokenHash' | 'adminTokenHash' }> = {
  'write-key': { name: 'write key', make: newWriteKey, hash: 'writeKeyHash' },
  'read-token': { name: 'read token', make: newReadToken, hash: 'readTokenHash' },
  'admin-token': { name: 'admin token', make: newAdminToken, hash: 'adminTokenHash' },
}

async function site(args: string[], flags: Flags) {
  const config = resolveConfig(flags)
  const store = await openStore(config, { config: config.journeys, checkJourneys: false })
  try {
    if (args[0] === 'add') {
      if (!args[1]) throw new Error('say which domain: npx waymark site add example.com')
      const { site, writeKey, readToken, adminToken } = await addSite(store, args[1])
      console.log(`Added site ${site.domain}
  site id      ${site.id}    (public: goes in the tag)
  write key    ${writeKey}    (secret: for server-side sending; shown only now)
  read token   ${readToken}    (secret: for export and reports; shown only now)
  admin token  ${adminToken}    (secret: for erasure; shown only now)

Paste this tag into every page of ${site.domain}, inside <head>:
${scriptTag(config.publicUrl, site.id)}`)
    } else if (args[0] === 'list') {
      const sites = await store.listSites()
      if (!sites.length) console.log('No site yet: npx waymark site add example.com')
      for (const site of sites)
        console.log(
          `${site.id}  ${site.domain}  added ${new Date(site.createdAt).toISOString()}` +
            `  retention ${site.retentionDays ? site.retentionDays + ' days' : 'off'}  privacy signals ${site.honorPrivacySignals ? 'honoured' : 'off'}`,
        )
    } else if (args[0] === 'set' || args[0] in NEW_SECRET) {
      const site = (await store.listSites()).find((s) => s.id === args[1] || s.domain === args[1])
      if (!site) throw new Error(`no site "${args[1] ?? ''}": give its id or domain (waymark site list)`)
      if (args[0] in NEW_SECRET) {
        const { name, make, hash } = NEW_SECRET[args[0]]
        const secret = make()
        await store.updateSite(site.id, { [hash]: hashSecret(secret) })
        return console.log(`New ${name} for ${site.domain}: ${secret}  (secret: shown only now; the old one stops working within seconds on every collector)`)
      }
      const settings: SiteSettings = {}
      const retention = flags['retention-days']
      if (retention !== undefined) {
        const days = Number(retention)
        if (retention !== 'off' && !(Number.isInteger(days) && days > 0)) throw new Error(`--retention-days "${retention}" must be a whole number of days, or off`)
        settings.retentionDays = retention === 'off' ? null : days
      }
      const signals = flags['privacy-signals']
      if (signals !== undefined) {
        if (signals !== 'on' && signals !== 'off') throw new Error(`--privacy-signals "${signals}" must be on or off`)
        settings.honorPrivacySignals = signals === 'on'
      }
      if (!Object.keys(settings).length) throw new Error('say what to set: --retention-days <n|off> or --privacy-signals <on|off>')
      await store.updateSite(site.id, settings)
      console.log(`Site ${site.domain}: ${Object.entries(settings).map(([k, v]) => `${k} ${v ?? 'off'}`).join(', ')} (a running collector applies it within a minute)`)
    } else throw new Error(`unknown site command "${args[0] ?? ''}": use site add, list, set, write-key, read-token or admin-token`)
  } finally {
    await store.close()
  }
}

export async function main(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true })
  const [command, ...rest] = positionals
  if (values.help || !command) return console.log(USAGE)
  if (command === 'start') return start(values)
  if (command === 'site') return site(rest, values)
  if (command === 'rebuild') return rebuild(values)
  if (command === 'process') return processCommand(values)
  if (command === 'migrate') return migrateCommand(values)
  if (command === 'person') return personCommand(rest, values)
  if (command === 'export') return exportCommand(rest[0], values)
  if (command === 'report') return reportCommand(rest[0], values)
  if (command === 'alerts') return alertsCommand(rest, values)
  throw new Error(`unknown command "${command}"\n\n${USAGE}`)
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`waymark: ${error.message}`)
  process.exit(1)
})

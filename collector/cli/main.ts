import { parseArgs } from 'node:util'
import { resolveConfig, type ConfigFlags } from '../config'
import { startCollector } from '../server'
import { addSite, scriptTag } from '../sites'
import { openSqliteStore } from '../store/sqlite'

const USAGE = `Usage: waymark <command> [options]

Commands:
  start                 run the collector
  site add <domain>     add a site; prints its id, its secret keys and the <script> tag to paste
  site list             list the sites
  rebuild               recompute every session and journey stage from the stored events

Options:
  --port <n>            port to listen on (PORT; default 8787)
  --host <addr>         address to listen on (HOST; default all)
  --db <path>           SQLite database file (WAYMARK_DB; default ./data/waymark.db)
  --url <url>           the collector's public address, for the tag (WAYMARK_URL; default http://localhost:<port>)
  --config <path>       journeys and session timeout (WAYMARK_CONFIG; default ./waymark.config.json if present)
`

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  db: { type: 'string' },
  url: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

async function start(flags: ConfigFlags) {
  const config = resolveConfig(flags)
  const collector = await startCollector({ ...config, log: console.log })
  console.log(`Waymark collector listening on ${config.publicUrl} (SQLite: ${config.dbPath})`)
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
  const store = openSqliteStore(config.dbPath, { config: config.journeys })
  try {
    const { sites, visitors } = await store.rebuild()
    console.log(`Rebuilt sessions and stages of ${sites} site(s), ${visitors} people and visitors, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await store.close()
  }
}

async function site(args: string[], flags: ConfigFlags) {
  const config = resolveConfig(flags)
  const store = openSqliteStore(config.dbPath, { config: config.journeys, checkJourneys: false })
  try {
    if (args[0] === 'add') {
      if (!args[1]) throw new Error('say which domain: npx waymark site add example.com')
      const { site, writeKey, readToken } = await addSite(store, args[1])
      console.log(`Added site ${site.domain}
  site id      ${site.id}    (public: goes in the tag)
  write key    ${writeKey}    (secret: for server-side sending; shown only now)
  read token   ${readToken}    (secret: for export and reports; shown only now)

Paste this tag into every page of ${site.domain}, inside <head>:
${scriptTag(config.publicUrl, site.id)}`)
    } else if (args[0] === 'list') {
      const sites = await store.listSites()
      if (!sites.length) console.log('No site yet: npx waymark site add example.com')
      for (const site of sites) console.log(`${site.id}  ${site.domain}  added ${new Date(site.createdAt).toISOString()}`)
    } else throw new Error(`unknown site command "${args[0] ?? ''}": use site add <domain> or site list`)
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
  throw new Error(`unknown command "${command}"\n\n${USAGE}`)
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`waymark: ${error.message}`)
  process.exit(1)
})

import { download, getJson, getText, token, Unauthorized } from './api'
import { h } from './dom'
import { accountsView } from './views/accounts'
import { contentView, ctasView } from './views/content'
import { flowsView } from './views/flows'
import { formsView } from './views/forms'
import { funnelView } from './views/funnel'
import { liveView } from './views/live'
import { peopleView } from './views/people'
import { sourcesView } from './views/sources'
import type { View, ViewContext } from './views/view'

interface SiteInfo {
  id: string
  domain: string
  journeys: { name: string; stages: string[] }[]
}

/** Each view, and the export its download button gives. */
const VIEWS: Record<string, { title: string; view: View; export: [string, string] }> = {
  funnel: { title: 'Funnel', view: funnelView, export: ['transitions', 'csv'] },
  flows: { title: 'Flows', view: flowsView, export: ['sessions', 'csv'] },
  sources: { title: 'Sources', view: sourcesView, export: ['sessions', 'csv'] },
  forms: { title: 'Forms', view: formsView, export: ['events', 'csv'] },
  content: { title: 'Content', view: contentView, export: ['content', 'csv'] },
  ctas: { title: 'Calls to action', view: ctasView, export: ['ctas', 'csv'] },
  people: { title: 'People & companies', view: peopleView, export: ['people', 'csv'] },
  accounts: { title: 'Accounts', view: accountsView, export: ['accounts', 'csv'] },
  live: { title: 'Live', view: liveView, export: ['events', 'ndjson'] },
}

const RANGES: Record<string, number | null> = { '7 days': 7, '30 days': 30, '90 days': 90, '365 days': 365, 'all time': null, dates: null }
/** The chosen journey and range; `dates` takes the first and last day from the date fields. */
const state = { journey: '', range: '30 days', first: '', last: '' }
const nextDay = (day: string) => new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10)
const root = document.getElementById('app')!

/** The chosen journey and range, as query parameters. */
function query(extra: Record<string, string> = {}) {
  const daysBack = RANGES[state.range]
  const params = new URLSearchParams({ journey: state.journey })
  // Whole days in UTC, so the numbers match `waymark report` for the same dates.
  if (daysBack !== null) params.set('from', new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - daysBack + 1)).toISOString().slice(0, 10))
  if (state.range === 'dates') {
    if (state.first) params.set('from', state.first)
    // The last day is shown inclusive; the API's `to` is exclusive.
    if (state.last) params.set('to', nextDay(state.last))
  }
  for (const [key, value] of Object.entries(extra)) value ? params.set(key, value) : params.delete(key)
  return params.toString()
}

const context: ViewContext = {
  get: (report, extra) => getJson(`/api/reports/${report}?${query(extra)}`),
  exportPath: (dataset, format, extra) => `/api/export/${dataset}?${query({ format, ...extra })}`,
  getText,
}

function signIn(problem?: string) {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'rt_…', autocomplete: 'off', required: '' }) as HTMLInputElement
  root.replaceChildren(
    h('form', {
      class: 'sign-in',
      submit: (event) => {
        event.preventDefault()
        token.set(input.value.trim())
        void start()
      },
    },
      h('h1', {}, 'Waymark'),
      h('p', {}, "Sign in with the site's read token (printed by ", h('code', {}, 'waymark site add'), '). It stays in this tab only.'),
      input,
      h('button', { type: 'submit' }, 'Sign in'),
      problem ? h('p', { class: 'error' }, problem) : null,
    ),
  )
  input.focus()
}

async function show(site: SiteInfo) {
  const name = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : 'funnel'
  const main = h('main', {}, h('p', { class: 'muted' }, 'Loading…'))
  const picker = (label: string, options: string[], value: string, set: (v: string) => void) =>
    h('label', {}, label + ' ', h('select', { name: label, change: (e) => (set((e.target as HTMLSelectElement).value), void show(site)) }, ...options.map((o) => {
      const option = h('option', { value: o }, o) as HTMLOptionElement
      option.selected = o === value
      return option
    })))
  root.replaceChildren(
    h('header', {},
      h('strong', {}, `Waymark · ${site.domain}`),
      h('nav', {}, ...Object.entries(VIEWS).map(([key, v]) => h('a', { href: `#${key}`, class: key === name ? 'active' : '' }, v.title))),
      picker('journey', site.journeys.map((j) => j.name), state.journey, (v) => (state.journey = v)),
      picker('range', Object.keys(RANGES), state.range, (v) => (state.range = v)),
      state.range === 'dates' &&
        h('span', {},
          h('input', { type: 'date', name: 'first', value: state.first, change: (e) => ((state.first = (e.target as HTMLInputElement).value), void show(site)) }),
          ' to ',
          h('input', { type: 'date', name: 'last', value: state.last, change: (e) => ((state.last = (e.target as HTMLInputElement).value), void show(site)) }),
        ),
      h('button', { class: 'download', click: () => void download(context.exportPath(...VIEWS[name].export)) }, `Download ${VIEWS[name].export.join(' as ').toUpperCase()}`),
      h('button', { click: () => (token.clear(), signIn()) }, 'Sign out'),
    ),
    main,
  )
  try {
    main.replaceChildren(await VIEWS[name].view(context))
  } catch (error) {
    if (error instanceof Unauthorized) return signIn('That token opens no site here.')
    main.replaceChildren(h('p', { class: 'error' }, `Could not load this view: ${(error as Error).message}`))
  }
}

async function start() {
  if (!token.get()) return signIn()
  try {
    const site = await getJson<SiteInfo>('/api/site')
    state.journey ||= site.journeys[0].name
    onhashchange = () => void show(site)
    await show(site)
  } catch (error) {
    token.clear()
    signIn(error instanceof Unauthorized ? 'That token opens no site here: check it, or add a site with waymark site add.' : (error as Error).message)
  }
}

void start()

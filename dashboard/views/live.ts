import { date, h, table } from '../dom'
import type { View } from './view'

interface LiveEvent {
  event_id: string
  occurred_at: string
  kind: string
  name: string | null
  path: string
  title: string | null
  channel?: string
  is_bot: boolean
}

const WINDOW_MS = 30 * 60_000
const EVERY_MS = 5000

/** Events of the last half hour, newest first, refreshed every few seconds while the view is open. */
export const liveView: View = async ({ getText, exportPath }) => {
  const body = h('div', {})
  const section = h('section', { class: 'live' }, h('h2', {}, 'Live: the last 30 minutes'), body)
  const refresh = async () => {
    const text = await getText(exportPath('events', 'ndjson', { from: new Date(Date.now() - WINDOW_MS).toISOString(), to: '' }))
    const events = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LiveEvent).reverse().slice(0, 100)
    body.replaceChildren(
      events.length
        ? table(['when (UTC)', 'what', 'page', 'title'], events.map((e) => [date(e.occurred_at), e.kind + (e.name ? `: ${e.name}` : '') + (e.is_bot ? ' (bot)' : ''), e.path, e.title ?? '']))
        : h('p', {}, 'Nothing in the last 30 minutes yet: visit a page with the tag.'),
    )
  }
  await refresh()
  const timer = setInterval(() => (section.isConnected ? void refresh().catch(() => {}) : clearInterval(timer)), EVERY_MS)
  return section
}

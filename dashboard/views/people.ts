import type { ListRow } from '../../collector/reports/owners'
import type { TimelineItem } from '../../collector/reports/timeline'
import { date, h, number, table } from '../dom'
import type { View } from './view'

interface OwnerList {
  total: number
  stalled: number
  stalledDays: number
  rows: ListRow[]
}

/** People and companies by stage, the stalled first; a click opens one's timeline. */
export const peopleView: View = async ({ get }) => {
  const [people, companies] = await Promise.all([get<OwnerList>('people', { limit: '100' }), get<OwnerList>('companies', { limit: '100' })])
  const timeline = h('div', { class: 'timeline' })
  const open = async (kind: 'person' | 'company', row: ListRow) => {
    const { items } = await get<{ items: TimelineItem[] }>('timeline', { [kind]: row.id, from: '', to: '' })
    timeline.replaceChildren(
      h('h3', {}, `Timeline of ${row.name}`),
      table(
        ['when (UTC)', 'what', 'detail'],
        items.map((item) =>
          item.type === 'session'
            ? [date(item.at), 'session', `${item.channel} (${item.source} / ${item.medium}${item.campaign ? ', ' + item.campaign : ''}) at ${item.entryPath}, ${item.pageviews} page views`]
            : item.type === 'stage'
              ? [date(item.at), 'stage', `${item.journey}: ${item.from ?? 'start'} → ${item.to}`]
              : [date(item.at), item.kind, `${item.name ? item.name + ' ' : ''}${item.path}${item.title ? ` “${item.title}”` : ''}`],
        ),
      ),
    )
    timeline.scrollIntoView()
  }
  const list = (title: string, kind: 'person' | 'company', owners: OwnerList) =>
    h('div', { class: `owners ${kind}` },
      h('h2', {}, `${title}: ${number(owners.total)}, ${number(owners.stalled)} stalled`),
      h('p', { class: 'muted' }, `Stalled: in a stage other than the last for more than ${owners.stalledDays} days; shown first. Click one for their timeline.`),
      table(
        [kind, 'stage', 'days in stage', 'stalled', 'last came', 'sessions', kind === 'person' ? 'score' : 'people'],
        owners.rows.map((r) => [r.name, r.stage ?? '–', r.daysInStage ?? '–', r.stalled ? 'stalled' : '', date(r.lastSeen), r.sessions, (kind === 'person' ? r.score : r.people) ?? 0]),
        (i) => void open(kind, owners.rows[i]),
      ),
    )
  return h('section', {}, list('People', 'person', people), list('Companies', 'company', companies), timeline)
}

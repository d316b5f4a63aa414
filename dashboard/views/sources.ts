import type { Attribution, StageSources } from '../../collector/reports/sources'
import { h, number, table } from '../dom'
import type { View } from './view'

export const sourcesView: View = async ({ get }) => {
  const { stages, attribution } = await get<{ stages: StageSources[]; attribution: Attribution[] }>('sources')
  return h(
    'section',
    {},
    h('h2', {}, 'Sources by stage'),
    ...stages.filter((s) => s.sessions).flatMap((s) => [
      h('h3', {}, `${s.stage}: ${number(s.sessions)} sessions`),
      h('div', { class: 'columns' },
        table(['channel', 'sessions'], s.channels.map((c) => [c.channel, c.count])),
        table(['source / medium', 'sessions'], s.sources.map((c) => [`${c.source} / ${c.medium}`, c.count])),
        s.campaigns.length ? table(['campaign', 'sessions'], s.campaigns.map((c) => [c.campaign, c.count])) : null,
      ),
    ]),
    h('h2', {}, 'First and last touch'),
    ...attribution.map((a) =>
      h('div', { class: 'attribution', 'data-stage': a.stage },
        h('h3', {}, `${a.stage}: ${number(a.people)} people entered it in the range`),
        h('div', { class: 'columns' },
          table(['first touch', 'source', 'campaign', 'people'], a.firstTouch.map((r) => [r.channel, r.source, r.campaign ?? '', r.count])),
          table(['last touch', 'source', 'campaign', 'people'], a.lastTouch.map((r) => [r.channel, r.source, r.campaign ?? '', r.count])),
        ),
      ),
    ),
  )
}

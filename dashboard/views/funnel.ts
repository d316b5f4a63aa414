import type { FunnelStage } from '../../collector/reports/funnel'
import { days, h, number, percent, table } from '../dom'
import type { View } from './view'

interface Funnel {
  stages: FunnelStage[]
  stalledDays: number
  stalled: { total: number }
}

/** Bars per stage, with conversion, drop-off and time to the next stage between them. */
export const funnelView: View = async ({ get }) => {
  const funnel = await get<Funnel>('funnel')
  const widest = Math.max(1, ...funnel.stages.map((s) => s.people.entered))
  const bars = funnel.stages.map((s) =>
    h(
      'div',
      { class: 'stage', 'data-stage': s.stage },
      h('div', { class: 'stage-name' }, s.stage),
      h('div', { class: 'bar-track' }, h('div', { class: 'bar', style: `width: ${(100 * s.people.entered) / widest}%` })),
      h('div', { class: 'stage-count', 'data-people': s.people.entered }, `${number(s.people.entered)} people`, h('span', { class: 'muted' }, ` (${number(s.known)} known, ${number(s.companies.entered)} companies)`)),
      s.next &&
        h(
          'div',
          { class: 'step' },
          `→ ${s.next}: `,
          h('strong', { 'data-conversion': s.stage }, percent(s.people.conversionRate)),
          ` moved on, ${number(s.people.dropOff)} dropped off; median ${days(s.people.medianMsToNext)}, p75 ${days(s.people.p75MsToNext)}`,
        ),
    ),
  )
  return h(
    'section',
    {},
    h('h2', {}, 'Funnel'),
    h('p', { class: 'muted' }, 'People who entered each stage in the range, and how many of them moved on to the next by its end.'),
    ...bars,
    h('h3', {}, 'Companies'),
    table(
      ['stage', 'entered', 'moved on', 'conversion', 'median time to next'],
      funnel.stages.map((s) => [s.stage, s.companies.entered, s.companies.movedOn ?? '–', percent(s.companies.conversionRate), days(s.companies.medianMsToNext)]),
    ),
    h('p', {}, `${number(funnel.stalled.total)} known people have stalled (in one stage for more than ${funnel.stalledDays} days): see People.`),
  )
}

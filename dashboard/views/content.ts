import type { Content } from '../../collector/reports/content'
import type { ClickBreakdown, ClickItem, Clicks } from '../../collector/reports/ctas'
import { days, h, number, percent, table } from '../dom'
import type { View } from './view'

/** The stages an item was consumed at, as "consideration 12 · decision 3" (stages with none left out). */
const atStages = (stages: { stage: string; views: number }[]) =>
  stages.filter((s) => s.views).map((s) => `${s.stage} ${number(s.views)}`).join(' · ') || '–'

/** Which pages and files are read, by whom and at which stage, and how often they came before the goal stage. */
export const contentView: View = async ({ get }) => {
  const { goal, pages, files, totals } = await get<Content & { goal: string }>('content')
  const influence = `assisted: of the ${number(totals.converters)} who entered ${goal} in the range, how many had read it in the 30 days before; influence: how much more often than visitors at large (above 1: more)`
  return h(
    'section',
    {},
    h('h2', {}, `Pages: ${number(totals.pages)}, ${number(totals.pageViews)} views`),
    h('p', { class: 'note' }, influence),
    pages.length
      ? table(
          ['page', 'views', 'visitors', 'known', 'read past 75 %', 'median engaged', 'at stage', `assisted ${goal}`, 'influence'],
          pages.map((p) => [p.path, p.views, p.visitors, percent(p.knownShare), percent(p.read75Share), days(p.medianEngagedMs), atStages(p.stages), p.influence.assisted, p.influence.ratio ?? '–']),
        )
      : h('p', {}, 'No page views in the range.'),
    h('h2', {}, `Files downloaded: ${number(totals.files)}, ${number(totals.downloads)} downloads`),
    files.length
      ? table(
          ['file', 'downloads', 'visitors', 'known', 'at stage', `assisted ${goal}`, 'influence'],
          files.map((f) => [f.url, f.views, f.visitors, percent(f.knownShare), atStages(f.stages), f.influence.assisted, f.influence.ratio ?? '–']),
        )
      : h('p', {}, 'No downloads in the range.'),
  )
}

const breakdown = (rows: ClickBreakdown<string | null>[]) => rows.map((r) => `${r.key ?? '(before the journey)'} ${number(r.clicks)}`).join(' · ') || '–'

const clickTable = (label: string, items: ClickItem[]) =>
  table(
    [label, 'clicks', 'people', 'form within 7 d', 'stage move within 7 d', 'went on', 'by channel', 'by stage'],
    items.map((c) => [c.name, c.clicks, c.people, c.submittedForm, c.advanced, percent(c.wentOnShare), breakdown(c.byChannel), breakdown(c.byStage)]),
  )

/** Tagged calls to action, contact links and outbound links: how many clicked, and how many went on to a form or a stage. */
export const ctasView: View = async ({ get }) => {
  const { ctas, contacts, outbound } = await get<Clicks>('ctas')
  const part = (title: string, label: string, items: ClickItem[], none: string) => [h('h2', {}, title), items.length ? clickTable(label, items) : h('p', {}, none)]
  return h(
    'section',
    {},
    ...part('Calls to action', 'call to action', ctas, 'No tagged call to action was clicked in the range (tag one with data-waymark-event="Book demo").'),
    ...part('Contact links', 'address', contacts, 'No mailto: or tel: link was clicked in the range.'),
    ...part('Outbound links', 'destination', outbound, 'No outbound link was clicked in the range.'),
  )
}

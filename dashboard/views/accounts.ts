import type { Account } from '../../collector/reports/accounts'
import type { Cohort } from '../../collector/reports/cohorts'
import type { B2B_REFERENCE, StageLength } from '../../collector/reports/length'
import type { PathCount, PathGroup } from '../../collector/reports/paths'
import { date, h, number, percent, table } from '../dom'
import type { View } from './view'

interface Accounts {
  goal: string
  engagedDays: number
  funnel: { stage: string; people: number; companies: number }[]
  total: number
  accounts: Account[]
}
interface Length {
  reference: typeof B2B_REFERENCE
  people: StageLength[]
  companies: StageLength[]
}
interface Paths {
  goal: string
  reached: PathGroup
  notReached: PathGroup
}

const median = (s: { median: number | null; p75: number | null }) => (s.median === null ? '–' : `${s.median} (p75 ${s.p75})`)

/** The path picture: each path as its steps, with a bar for the share of people who took it. */
const pathList = (title: string, paths: PathCount[]) =>
  h(
    'div',
    { class: 'paths' },
    h('h4', {}, title),
    ...(paths.length
      ? paths.map((p) =>
          h(
            'div',
            { class: 'path' },
            h('div', { class: 'steps' }, ...p.path.flatMap((step, i) => [i ? h('span', { class: 'arrow' }, '→') : null, h('span', { class: 'step-chip' }, step)])),
            h('div', { class: 'bar-track' }, h('div', { class: 'bar', style: `width: ${Math.max(1, p.share * 100)}%` })),
            h('span', { class: 'muted' }, `${number(p.count)} people, ${percent(p.share)}`),
          ),
        )
      : [h('p', { class: 'muted' }, 'None in the range.')]),
  )

/** People listed in each committee: those who came first, asked or moved it on, then the engaged. */
const MEMBERS_SHOWN = 10

/** The account's view: buying committees, the account funnel, journey length, paths and cohorts. */
export const accountsView: View = async ({ get }) => {
  const [accounts, length, paths, cohorts] = await Promise.all([
    get<Accounts>('accounts', { limit: '25', members: String(MEMBERS_SHOWN) }),
    get<Length>('length'),
    get<Paths>('paths', { limit: '8' }),
    get<{ windows: number[]; people: Cohort[]; companies: Cohort[] }>('cohorts'),
  ])
  const ref = length.reference
  const lengthTable = (rows: StageLength[]) =>
    table(['stage', 'reached', 'touches', 'days', 'channels'], [
      ...rows.filter((r) => r.reached).map((r) => [r.stage, r.reached, median(r.touches), median(r.days), median(r.channels)]),
      [h('em', {}, 'B2B benchmark, a whole purchase'), '', ref.touches, ref.days, ref.channels],
    ])
  return h(
    'section',
    {},
    h('h2', {}, 'Accounts'),
    h('p', { class: 'muted' }, 'People and their companies entering each stage in the range.'),
    table(['stage', 'people', 'companies'], accounts.funnel.map((f) => [f.stage, f.people, f.companies])),
    h('h3', {}, `Buying committees: ${number(accounts.total)} ${accounts.total === 1 ? 'company' : 'companies'}, those with the most engaged people (a visit in the last ${accounts.engagedDays} days) first`),
    ...accounts.accounts.map((a) =>
      h(
        'div',
        { class: 'account', 'data-company': a.companyId },
        h('h4', {}, `${a.name}: ${a.stage ?? 'no stage yet'}, ${number(a.people)} people, ${number(a.engagedPeople)} engaged`),
        a.length && h('p', { class: 'muted length' }, `To ${a.length.stage}: ${number(a.length.touches)} touches over ${a.length.days} days on ${number(a.length.channels)} channels`),
        table(
          ['person', 'role', 'stage', 'first came', 'last came', 'engaged', 'asked (demo, contact…)', `moved it to ${accounts.goal}`],
          a.members.map((m) => [m.name + (m.cameFirst ? ' (came first)' : ''), m.role ?? '–', m.stage ?? '–', date(m.firstSeen), date(m.lastSeen), m.engaged ? 'yes' : '', m.requested ? 'yes' : '', m.movedToGoal ? 'yes' : '']),
        ),
        a.people > a.members.length &&
          h('p', { class: 'muted more' }, `and ${number(a.people - a.members.length)} more; the accounts export lists them all`),
      ),
    ),
    h('h3', {}, 'Journey length'),
    h('p', { class: 'muted' }, `From the first touch to each stage: median (and p75) touches, days and channels. The published B2B benchmark for a whole purchase: ${ref.touches} touches over ${ref.days} days on ${ref.channels} channels.`),
    h('div', { class: 'columns' }, h('div', {}, h('h4', {}, 'People'), lengthTable(length.people)), h('div', {}, h('h4', {}, 'Companies'), lengthTable(length.companies))),
    h('h3', {}, `Paths: journeys that reached ${paths.goal} (${number(paths.reached.owners)}) against those that did not (${number(paths.notReached.owners)})`),
    h(
      'div',
      { class: 'columns' },
      pathList(`Channels, reached ${paths.goal}`, paths.reached.channels),
      pathList(`Channels, did not`, paths.notReached.channels),
    ),
    h('div', { class: 'columns' }, pathList(`Content, reached ${paths.goal}`, paths.reached.content), pathList('Content, did not', paths.notReached.content)),
    h('h3', {}, 'Cohorts by the month of the first touch'),
    h('p', { class: 'muted' }, 'The share that reached each stage within so many days of their first touch; – until that long has passed for someone in the cohort.'),
    ...(['people', 'companies'] as const).map((who) =>
      cohorts[who].length
        ? table(
            [who, 'size', 'stage', ...cohorts.windows.map((d) => `within ${d} d`)],
            cohorts[who].flatMap((c) => c.stages.map((s) => [c.month, c.size, s.stage, ...s.within.map((w) => percent(w.share))])),
          )
        : h('p', { class: 'muted' }, `No ${who} first came in the range.`),
    ),
  )
}

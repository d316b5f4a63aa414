import type { runReport } from '.'
import { INFLUENCE_WINDOW_MS, READ_DEPTH } from './content'
import { WENT_ON_WINDOW_MS, type ClickItem } from './ctas'
import { DAY_MS } from './stats'

type Report = Awaited<ReturnType<typeof runReport>>
type Cell = string | number | null | undefined

/** A plain-text table: a header row, numbers aligned right, text left. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '–' : String(cell))))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i].length)))
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number' || row[i] == null || /^[\d.,]+ ?(%|d|h|min|s)?$/.test(String(row[i]))))
  const line = (cells: string[]) => cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n')
}

export const percent = (fraction: number | null) => (fraction === null ? null : `${(fraction * 100).toFixed(1)} %`)

/** A duration as a person reads it: 45 s, 12 min, 5.5 h, 3.2 d. */
export function duration(ms: number | null): string | null {
  if (ms === null) return null
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${(ms / 86_400_000).toFixed(1)} d`
}

const day = (iso: string | number | null) => (iso === null ? null : new Date(iso).toISOString().slice(0, 10))

/** A report as the tables `waymark report` prints. */
export function formatReport(report: Report): string {
  const range = `${report.from ? day(report.from) : 'the start'} to ${report.to ? day(report.to) : 'now'}`
  const name = report.report === 'ctas' ? 'CTAs' : report.report[0].toUpperCase() + report.report.slice(1)
  const title = `${name} of journey "${report.journey}", ${range} (to is exclusive)${report.segment ? `; segment ${report.segment}` : ''}`
  const sections: string[] = [title]

  if ('stalled' in report && 'stages' in report) {
    for (const [who, pick] of [['People', 'people'], ['Companies', 'companies']] as const)
      sections.push(
        `${who} entering each stage in the range, and how many moved on to the next by its end`,
        table(
          ['stage', 'entered', ...(who === 'People' ? ['known'] : []), 'next', 'moved on', 'conversion', 'drop-off', 'median time', 'p75 time'],
          report.stages.map((s) => [
            s.stage, s[pick].entered, ...(who === 'People' ? [s.known] : []), s.next, s[pick].movedOn, percent(s[pick].conversionRate),
            s[pick].dropOff, duration(s[pick].medianMsToNext), duration(s[pick].p75MsToNext),
          ]),
        ),
      )
    sections.push(
      `Stalled: known people in one stage for more than ${report.stalledDays} days at ${day(report.asOf)}: ${report.stalled.total}` +
        (report.stalled.total > report.stalled.people.length ? ` (the ${report.stalled.people.length} longest shown)` : ''),
    )
    if (report.stalled.people.length)
      sections.push(table(['person', 'stage', 'since', 'days', 'last came'], report.stalled.people.map((p) => [p.email ?? p.userId ?? p.personId, p.stage, day(p.enteredAt), p.days, day(p.lastSeen)])))
  } else if ('attribution' in report) {
    for (const s of report.stages) {
      sections.push(`Sessions at ${s.stage}: ${s.sessions}`)
      if (!s.sessions) continue
      sections.push(table(['channel', 'sessions'], s.channels.map((c) => [c.channel, c.count])))
      sections.push(table(['source', 'medium', 'sessions'], s.sources.map((c) => [c.source, c.medium, c.count])))
      if (s.campaigns.length) sections.push(table(['campaign', 'sessions'], s.campaigns.map((c) => [c.campaign, c.count])))
    }
    if (report.flows.length)
      sections.push('People who first came in the range: the channel that brought them, and the furthest stage they reached', table(['first channel', 'stopped at', 'people'], report.flows.map((f) => [f.channel, f.stage, f.people])))
    for (const a of report.attribution) {
      sections.push(`People who entered ${a.stage} in the range: ${a.people}`)
      for (const [label, rows] of [['first touch', a.firstTouch], ['last touch', a.lastTouch]] as const)
        if (rows.length) sections.push(table([label + ': channel', 'source', 'campaign', 'people'], rows.map((r) => [r.channel, r.source, r.campaign, r.count])))
    }
  } else if ('forms' in report) {
    if (!report.forms.length) sections.push('No form activity in the range.')
    for (const f of report.forms) {
      sections.push(
        `Form "${f.form}": ${f.views} views, ${f.starts} starts, ${f.submits} submits, abandonment ${percent(f.abandonmentRate) ?? '–'}, median time to submit ${duration(f.medianMsToSubmit) ?? '–'}`,
      )
      if (f.fields.length)
        sections.push(
          table(
            ['field', 'type', 'interactions', 'drop-off', 'median time', 'total time', 'corrections', 'errors'],
            f.fields.map((x) => [x.field, x.fieldType, x.interactions, x.dropOff, duration(x.medianMs), duration(x.totalMs), x.corrections, x.validationErrors]),
          ),
        )
    }
  } else if ('items' in report) {
    const { person, company } = report as { person?: { id: string; email: string | null; userId: string | null }; company?: { id: string; domain: string | null; groupId: string | null } }
    const who = person ? `Person ${person.email ?? person.userId ?? person.id}` : `Company ${company!.domain ?? company!.groupId ?? company!.id}`
    sections.push(who)
    sections.push(
      table(
        ['when (UTC)', 'what', 'detail'],
        report.items.map((item) =>
          item.type === 'session'
            ? [new Date(item.at).toISOString().slice(0, 19), 'session', `${item.channel} (${item.source} / ${item.medium}${item.campaign ? ', ' + item.campaign : ''}) at ${item.entryPath}, ${item.pageviews} page views`]
            : item.type === 'stage'
              ? [new Date(item.at).toISOString().slice(0, 19), 'stage', `${item.journey}: ${item.from ?? 'start'} → ${item.to}`]
              : [new Date(item.at).toISOString().slice(0, 19), item.kind, `${item.name ? item.name + ' ' : ''}${item.path}`],
        ),
      ),
    )
  } else if ('rows' in report) {
    sections.push(`${report.report === 'people' ? 'People' : 'Companies'}${report.stage ? ` at ${report.stage}` : ''}: ${report.total}, of whom ${report.stalled} stalled (in a stage for more than ${report.stalledDays} days)`)
    if (report.rows.length)
      sections.push(
        table(
          [report.report === 'people' ? 'person' : 'company', 'stage', 'days in stage', 'stalled', 'last came', 'sessions', ...(report.report === 'people' ? ['score'] : ['people'])],
          report.rows.map((r) => [r.name, r.stage, r.daysInStage, r.stalled ? 'yes' : '', day(r.lastSeen), r.sessions, report.report === 'people' ? r.score : r.people]),
        ),
      )
  } else if ('pages' in report) {
    const { totals, goal } = report
    const days = INFLUENCE_WINDOW_MS / DAY_MS
    sections.push(
      [
        `Influence on entering ${goal}: ${totals.converters} entered it in the range; ${totals.owners} viewed or downloaded something in it or the 30 days before.`,
        `  assisted: of those who entered ${goal}, how many had viewed (downloaded) the item in the ${days} days before`,
        '  influence: (assisted ÷ entered) ÷ (visitors ÷ all who viewed or downloaded anything); above 1, those who entered had consumed it more than visitors at large',
      ].join('\n'),
    )
    const listed = (what: string, total: number, amount: string, shown: number) => `${what}: ${total} in the range (${amount})` + (total > shown ? `, the ${shown} most visited shown` : '')
    const byStage = (label: string, items: { key: string; stages: { stage: string; views: number }[] }[]) =>
      table([label, ...items[0].stages.map((s) => s.stage)], items.map((i) => [i.key, ...i.stages.map((s) => s.views)]))
    sections.push(listed('Pages', totals.pages, `${totals.pageViews} views`, report.pages.length))
    if (report.pages.length)
      sections.push(
        table(
          ['page', 'views', 'visitors', 'known', `read ${READ_DEPTH} %`, 'median engaged', 'assisted', 'influence'],
          report.pages.map((p) => [p.path, p.views, p.visitors, percent(p.knownShare), percent(p.read75Share), duration(p.medianEngagedMs), p.influence.assisted, p.influence.ratio]),
        ),
        'Page views by the stage the viewer was in',
        byStage('page', report.pages.map((p) => ({ key: p.path, stages: p.stages }))),
      )
    sections.push(listed('Files downloaded', totals.files, `${totals.downloads} downloads`, report.files.length))
    if (report.files.length)
      sections.push(
        table(['file', 'downloads', 'visitors', 'known', 'assisted', 'influence'], report.files.map((f) => [f.url, f.views, f.visitors, percent(f.knownShare), f.influence.assisted, f.influence.ratio])),
        'Downloads by the stage the visitor was in',
        byStage('file', report.files.map((f) => ({ key: f.url, stages: f.stages }))),
      )
  } else if ('ctas' in report) {
    const { totals } = report
    sections.push(
      `${totals.clicks} clicks by ${totals.people} people. Went on: submitted a form or moved to a stage within ${WENT_ON_WINDOW_MS / DAY_MS} days of a click.`,
    )
    const lists = [
      ['Tagged calls to action', 'cta', report.ctas, totals.ctas],
      ['Contact links', 'contact', report.contacts, totals.contacts],
      ['Outbound links', 'link', report.outbound, totals.outbound],
    ] as const
    for (const [title, label, items, total] of lists) {
      sections.push(`${title}: ${total} clicked` + (total > items.length ? `, the ${items.length} most clicked shown` : ''))
      if (!items.length) continue
      const name = (item: ClickItem) => ('kind' in item ? `${item.name} (${item.kind})` : item.name)
      sections.push(
        table(
          [label, 'clicks', 'people', 'submitted form', 'advanced', 'went on', 'went on %'],
          items.map((i) => [name(i), i.clicks, i.people, i.submittedForm, i.advanced, i.wentOn, percent(i.wentOnShare)]),
        ),
        table(
          [label, 'channel', 'clicks', 'people', 'went on'],
          items.flatMap((i) => i.byChannel.map((r) => [name(i), r.key, r.clicks, r.people, r.wentOn])),
        ),
        table(
          [label, 'stage at the click', 'clicks', 'people', 'went on'],
          items.flatMap((i) => i.byStage.map((r) => [name(i), r.key ?? '(before the journey)', r.clicks, r.people, r.wentOn])),
        ),
      )
    }
  } else if ('reference' in report) {
    const ref = report.reference
    sections.push(`From the first touch to entering each stage: touches (visits), days and distinct channels, median and p75 of those who entered it in the range. The published B2B benchmark for a whole purchase: ${ref.touches} touches, ${ref.days} days, ${ref.channels} channels.`)
    for (const [who, rows] of [['People', report.people], ['Companies', report.companies]] as const)
      sections.push(
        who,
        table(
          ['stage', 'reached', 'touches', 'p75', 'days', 'p75', 'channels', 'p75'],
          rows.map((r) => [r.stage, r.reached, r.touches.median, r.touches.p75, r.days.median, r.days.p75, r.channels.median, r.channels.p75]),
        ),
      )
  } else if ('accounts' in report) {
    sections.push(
      `Entering each stage in the range: people and their companies`,
      table(['stage', 'people', 'companies'], report.funnel.map((f) => [f.stage, f.people, f.companies])),
      `Accounts: ${report.total}, the most engaged people (a visit in the last ${report.engagedDays} days) first` + (report.total > report.accounts.length ? `; the first ${report.accounts.length} shown` : ''),
    )
    for (const a of report.accounts)
      sections.push(
        `${a.name}: ${a.stage ?? 'no stage'}, ${a.people} people, ${a.engagedPeople} engaged` +
          (a.length ? `; to ${a.length.stage}: ${a.length.touches} touches over ${a.length.days} days on ${a.length.channels} channels` : ''),
        table(
          ['person', 'role', 'stage', 'first came', 'last came', 'engaged', 'asked', `moved it to ${report.goal}`],
          a.members.map((m) => [m.name + (m.cameFirst ? ' (first)' : ''), m.role, m.stage, day(m.firstSeen), day(m.lastSeen), m.engaged ? 'yes' : '', m.requested ? 'yes' : '', m.movedToGoal ? 'yes' : '']),
        ),
      )
  } else if ('reached' in report) {
    for (const [title, group] of [[`Reached ${report.goal}`, report.reached], [`Did not reach ${report.goal}`, report.notReached]] as const) {
      sections.push(`${title}: ${group.owners} people and visitors whose journey began in the range`)
      if (group.channels.length) sections.push(table(['channel path', 'people', 'share'], group.channels.map((p) => [p.path.join(' → '), p.count, percent(p.share)])))
      if (group.content.length) sections.push(table(['content path', 'people', 'share'], group.content.map((p) => [p.path.join(' → '), p.count, percent(p.share)])))
    }
  } else if ('windows' in report) {
    for (const [who, cohorts] of [['People', report.people], ['Companies', report.companies]] as const) {
      sections.push(`${who} by the month of their first touch: the share that reached each stage within ${report.windows.join(', ')} days (– until that long has passed)`)
      if (cohorts.length)
        sections.push(
          table(
            ['month', 'size', 'stage', ...report.windows.map((d) => `${d} d`)],
            cohorts.flatMap((c) => c.stages.map((s) => [c.month, c.size, s.stage, ...s.within.map((w) => percent(w.share))])),
          ),
        )
    }
  }
  return sections.join('\n\n') + '\n'
}

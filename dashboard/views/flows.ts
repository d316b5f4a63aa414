import type { Flow, StageSources } from '../../collector/reports/sources'
import { h, number, svg } from '../dom'
import type { View } from './view'

/**
 * Where people come from and where they stop: the channel that first brought them on the left,
 * the furthest stage they have reached on the right, a band per pair as wide as its people (a
 * Sankey picture).
 */
export const flowsView: View = async ({ get }) => {
  // The report's stages come in the journey's order: the right-hand side keeps it.
  const { flows, stages } = await get<{ flows: Flow[]; stages: StageSources[] }>('sources')
  const links = flows.map((f) => ({ from: f.channel, to: f.stage, count: f.people }))
  const total = links.reduce((sum, l) => sum + l.count, 0)
  if (!total) return h('section', {}, h('h2', {}, 'Flows'), h('p', {}, 'Nobody came for the first time in the range.'))
  const channels = [...new Set(links.map((l) => l.from))]
  const targets = stages.map((s) => s.stage).filter((s) => links.some((l) => l.to === s))
  const height = 420
  const gap = 8
  const scale = (height - gap * Math.max(channels.length, targets.length)) / total
  const place = (names: string[], sizeOf: (name: string) => number) => {
    let y = 0
    return new Map(names.map((name) => {
      const at = y
      y += sizeOf(name) * scale + gap
      return [name, { y: at, used: 0 }]
    }))
  }
  const left = place(channels, (c) => links.filter((l) => l.from === c).reduce((s, l) => s + l.count, 0))
  const right = place(targets, (t) => links.filter((l) => l.to === t).reduce((s, l) => s + l.count, 0))
  const [x0, x1] = [170, 530]
  const chart = svg('svg', { viewBox: `0 0 700 ${height + 20}`, class: 'flows', role: 'img' })
  for (const link of links) {
    const width = link.count * scale
    const a = left.get(link.from)!
    const b = right.get(link.to)!
    const y0 = a.y + a.used + width / 2
    const y1 = b.y + b.used + width / 2
    a.used += width
    b.used += width
    chart.append(svg('path', { d: `M${x0},${y0} C${(x0 + x1) / 2},${y0} ${(x0 + x1) / 2},${y1} ${x1},${y1}`, 'stroke-width': Math.max(1, width), class: 'flow' }, svg('title', {}, `${link.from} → ${link.to}: ${number(link.count)} people`)))
  }
  for (const [name, node] of left) chart.append(svg('text', { x: x0 - 6, y: node.y + node.used / 2 + 4, 'text-anchor': 'end' }, `${name} (${number(links.filter((l) => l.from === name).reduce((s, l) => s + l.count, 0))})`))
  for (const [name, node] of right) chart.append(svg('text', { x: x1 + 6, y: node.y + node.used / 2 + 4 }, `${name} (${number(links.filter((l) => l.to === name).reduce((s, l) => s + l.count, 0))})`))
  return h('section', {}, h('h2', {}, 'Flows'), h('p', { class: 'muted' }, 'People who first came in the range: the channel that brought them, and the furthest stage they have reached so far.'), chart)
}

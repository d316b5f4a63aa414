/**
 * Builds DOM from data. Every string becomes a text node or an attribute value, never markup:
 * titles, URLs, event names and traits come from visitors' browsers, and this is what keeps
 * `<img src=x onerror=…>` in a page title from ever running.
 */
export type Child = Node | string | number | null | undefined | false

export function h(tag: string, attributes: Record<string, string | number | ((event: Event) => void)> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name, value)
    else element.setAttribute(name, String(value))
  }
  element.append(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)))
  return element
}

const SVG = 'http://www.w3.org/2000/svg'
export function svg(tag: string, attributes: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const element = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  element.append(...children)
  return element
}

export const number = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'))
export const percent = (fraction: number | null | undefined) => (fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(1)} %`)
/** A duration as a person reads it: 45 s, 12 min, 5.5 h, 3.2 d. */
export const days = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '–'
    : ms < 60_000 ? `${Math.round(ms / 1000)} s`
    : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min`
    : ms < 86_400_000 ? `${(ms / 3_600_000).toFixed(1)} h`
    : `${(ms / 86_400_000).toFixed(1)} d`
export const date = (ms: number | string | null | undefined) => (ms === null || ms === undefined ? '–' : new Date(ms).toISOString().slice(0, 16).replace('T', ' '))

/** A table: a header row and rows of cells, numbers aligned right. */
export function table(headers: string[], rows: Child[][], onRow?: (index: number) => void): HTMLElement {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', {}, header)))),
    h('tbody', {}, ...rows.map((row, i) => {
      const tr = h('tr', onRow ? { class: 'clickable', click: () => onRow(i) } : {}, ...row.map((cell) => h('td', typeof cell === 'number' ? { class: 'num' } : {}, typeof cell === 'number' ? number(cell) : cell)))
      return tr
    })),
  )
}

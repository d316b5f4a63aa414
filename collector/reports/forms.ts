import type { FormEvent, StoredEvent } from '../store/types'
import { percentile, rate } from './stats'

export interface FieldStats {
  field: string
  fieldType: string | null
  /** Stays in the field (focus to blur) after the form started. */
  interactions: number
  /** Abandoned forms whose last field touched was this one. */
  dropOff: number
  totalMs: number
  medianMs: number | null
  /** Times the visitor emptied the field to type it again. */
  corrections: number
  /** Stays that ended with the browser reporting the field invalid. */
  validationErrors: number
}

export interface FormStats {
  form: string
  views: number
  starts: number
  submits: number
  abandons: number
  /** Starts not followed by a submit: (starts − submits) ÷ starts. */
  abandonmentRate: number | null
  /** From the first input to the submit. */
  medianMsToSubmit: number | null
  fields: FieldStats[]
}

export const FORM_KINDS = ['form_view', 'form_start', 'form_field', 'form_submit', 'form_abandon'] as const

/** People's form events from a store's events of those kinds: how a store without an index of them folds them. */
export async function foldFormEventsFrom(events: AsyncIterable<StoredEvent>, add: (event: FormEvent) => void) {
  for await (const event of events) if (!event.isBot) add(event)
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0)
const str = (value: unknown) => (typeof value === 'string' ? value : null)

/** Per form and per field, from the form events in a range; folded one event at a time. */
export function formsFold() {
  const forms = new Map<string, { views: number; starts: number; submits: number; abandons: number; toSubmit: number[]; fields: Map<string, FieldStats & { durations: number[] }> }>()
  const formOf = (key: string) => {
    let form = forms.get(key)
    if (!form) forms.set(key, (form = { views: 0, starts: 0, submits: 0, abandons: 0, toSubmit: [], fields: new Map() }))
    return form
  }
  const fieldOf = (form: ReturnType<typeof formOf>, name: string) => {
    let field = form.fields.get(name)
    if (!field)
      form.fields.set(name, (field = { field: name, fieldType: null, interactions: 0, dropOff: 0, totalMs: 0, medianMs: null, corrections: 0, validationErrors: 0, durations: [] }))
    return field
  }
  return {
    add(event: Pick<StoredEvent, 'kind' | 'name' | 'props'>) {
      if (!event.kind.startsWith('form_') || !event.name) return
      const form = formOf(event.name)
      const props = event.props ?? {}
      const fieldName = str(props.field)
      switch (event.kind) {
        case 'form_view':
          form.views++
          break
        case 'form_start':
          form.starts++
          break
        case 'form_submit':
          form.submits++
          if (num(props.ms) > 0) form.toSubmit.push(num(props.ms))
          break
        case 'form_abandon':
          form.abandons++
          if (fieldName) fieldOf(form, fieldName).dropOff++
          break
        case 'form_field': {
          if (!fieldName) break
          const field = fieldOf(form, fieldName)
          field.fieldType ??= str(props.fieldType)
          field.interactions++
          // A stay with no time given adds none, and is left out of the median.
          field.totalMs += num(props.ms)
          if (num(props.ms) > 0) field.durations.push(num(props.ms))
          field.corrections += num(props.clears)
          if (props.invalid) field.validationErrors++
        }
      }
    },
    result(): FormStats[] {
      return [...forms]
        .map(([form, f]) => ({
          form,
          views: f.views,
          starts: f.starts,
          submits: f.submits,
          abandons: f.abandons,
          abandonmentRate: rate(Math.max(0, f.starts - f.submits), f.starts),
          medianMsToSubmit: percentile(f.toSubmit, 0.5),
          fields: [...f.fields.values()]
            .map(({ durations, ...field }) => ({ ...field, medianMs: percentile(durations, 0.5) }))
            .sort((a, b) => b.dropOff - a.dropOff || b.interactions - a.interactions || a.field.localeCompare(b.field)),
        }))
        .sort((a, b) => b.starts - a.starts || b.views - a.views || a.form.localeCompare(b.form))
    },
  }
}

import type { FormStats } from '../../collector/reports/forms'
import { days, h, percent, table } from '../dom'
import type { View } from './view'

export const formsView: View = async ({ get }) => {
  const { forms } = await get<{ forms: FormStats[] }>('forms')
  if (!forms.length) return h('section', {}, h('h2', {}, 'Forms'), h('p', {}, 'No form activity in the range.'))
  return h(
    'section',
    {},
    h('h2', {}, 'Forms'),
    table(
      ['form', 'views', 'starts', 'submits', 'abandonment', 'median time to submit'],
      forms.map((f) => [f.form, f.views, f.starts, f.submits, percent(f.abandonmentRate), days(f.medianMsToSubmit)]),
    ),
    ...forms.filter((f) => f.fields.length).map((f) =>
      h('div', {},
        h('h3', {}, `${f.form}: fields, the biggest drop-off first`),
        table(
          ['field', 'type', 'interactions', 'drop-off', 'median time', 'corrections', 'errors'],
          f.fields.map((x) => [x.field, x.fieldType ?? '', x.interactions, x.dropOff, days(x.medianMs), x.corrections, x.validationErrors]),
        ),
      ),
    ),
  )
}

import { FORM_PROPS, type EventKind, type Properties } from '../../shared/wire'

/** Form events arrive with one-letter keys (the snippet's bytes); analysts get names. */
export function storedProps(kind: EventKind, props: Properties | undefined): Properties | null {
  if (!props) return null
  if (!kind.startsWith('form_')) return props
  return Object.fromEntries(
    Object.entries(props).map(([key, value]) => [FORM_PROPS[key as keyof typeof FORM_PROPS] ?? key, value]),
  )
}

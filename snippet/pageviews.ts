import type { Properties } from '../shared/wire'
import { here } from './location'
import type { Enqueue } from './transport'

/**
 * Page views: the first load, and single-page-app navigation through history.pushState,
 * replaceState and popstate. A view is counted when the URL (less its #fragment) changes, so a
 * router that calls replaceState on the same URL counts nothing twice. `leaving` runs before an
 * in-app move, as page hiding does for a real one; `viewed` is told each view's event id. Returns
 * `page`, for the command of that name: a view of the current URL, counted even if it was counted already.
 */
export const pageviews = (enqueue: Enqueue, leaving: () => void, viewed: (id: string) => void) => {
  let last: string | undefined

  const page = (props?: Properties) => {
    // The referrer of a page load is only true for its first view; later views are in-app moves.
    const id = enqueue({ k: 'p', r: last ? undefined : document.referrer, ti: document.title, p: props })
    id && viewed(id)
    last = here()
  }
  const changed = () => {
    if (here() != last) {
      leaving()
      page()
    }
  }

  const patch = (method: 'pushState' | 'replaceState') => {
    const original = history[method]
    history[method] = function (this: History) {
      original.apply(this, arguments as any)
      changed()
    }
  }
  patch('pushState')
  patch('replaceState')
  addEventListener('popstate', changed)
  page()
  // waymark('page') (a wizard's step, a modal) is a new view of the same page: forms stay as they are.
  return page
}

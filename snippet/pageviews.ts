import type { Properties } from '../shared/wire'
import type { Enqueue } from './transport'

/**
 * Page views: the first load, and single-page-app navigation through history.pushState,
 * replaceState and popstate. A view is counted when the URL (less its #fragment) changes, so a
 * router that calls replaceState on the same URL counts nothing twice. Returns `page`, for the
 * command of that name: a view of the current URL, counted even if it was counted already.
 */
export const pageviews = (enqueue: Enqueue) => {
  let last: string | undefined

  const page = (props?: Properties) => {
    const url = location.href.split('#')[0]
    // The referrer of a page load is only true for its first view; later views are in-app moves.
    enqueue({ k: 'pageview', u: url, r: last ? undefined : document.referrer, ti: document.title, p: props })
    last = url
  }
  const changed = () => location.href.split('#')[0] != last && page()

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
  return page
}

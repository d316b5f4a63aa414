/** Runs page-facing code so that nothing it throws reaches the customer's site: a tracker must never break a page. */
export const safe =
  <A extends unknown[]>(fn: (...args: A) => unknown) =>
  (...args: A) => {
    try {
      fn(...args)
    } catch {}
  }

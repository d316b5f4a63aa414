/** The page's URL without its #fragment: what a page view is of. */
export const here = () => location.href.split('#')[0]

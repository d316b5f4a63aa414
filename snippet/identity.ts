import type { Properties } from '../shared/wire'
import { load, save, visitorId } from './storage'
import type { Envelope, Transport } from './transport'

const USER_KEY = 'waymark_uid'

/**
 * identify, group, track and reset. An anonymous id belongs to one person only: identifying a
 * different person than the one this browser last identified (a shared computer, a colleague's
 * sign-up) starts a new anonymous id first, so neither person's history becomes the other's.
 */
export const identity = ({ enqueue, flush }: Transport, envelope: Envelope) => {
  const newVisitor = () => {
    flush() // what is queued leaves under the old id
    envelope.v = visitorId(true)
  }
  return {
    identify: (id: unknown, traits?: Properties) => {
      if (!id) return
      const user = String(id)
      const previous = load(USER_KEY)
      if (previous && previous != user) newVisitor()
      save(USER_KEY, user)
      enqueue({ k: 'i', n: user, p: traits })
    },
    group: (id: unknown, traits?: Properties) => id && enqueue({ k: 'g', n: String(id), p: traits }),
    track: (name: unknown, props?: Properties) => name && enqueue({ k: 't', n: String(name), p: props }),
    reset: () => {
      save(USER_KEY)
      newVisitor()
    },
  }
}

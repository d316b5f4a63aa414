import type { Properties } from '../shared/wire'
import { isEmail } from './email'
import { load, save, visitorId } from './storage'
import type { Envelope, Transport } from './transport'

const USER_KEY = 'waymark_uid'
const EMAIL_KEY = 'waymark_email'

/**
 * identify, group, track and reset. An anonymous id belongs to one person only: identifying
 * someone else than this browser last identified (another email, or another user id; an email
 * then a user id may well be one person, and the collector decides) starts a new anonymous id
 * first, so neither person's history becomes the other's.
 */
export const identity = ({ enqueue, flush }: Transport, envelope: Envelope) => {
  const newVisitor = () => {
    flush() // what is queued leaves under the old id
    save(USER_KEY)
    save(EMAIL_KEY)
    envelope.v = visitorId(true)
  }
  return {
    identify: (id: unknown, traits?: Properties) => {
      if (!id) return
      const subject = String(id)
      const email = (isEmail(subject) ? subject : isEmail(traits && traits.email) ? (traits!.email as string) : '').toLowerCase()
      const user = isEmail(subject) ? '' : subject
      const knownUser = load(USER_KEY)
      const knownEmail = load(EMAIL_KEY)
      if ((user && knownUser && knownUser != user) || (email && knownEmail && knownEmail != email)) newVisitor()
      user && save(USER_KEY, user)
      email && save(EMAIL_KEY, email)
      enqueue({ k: 'i', n: subject, p: traits })
    },
    group: (id: unknown, traits?: Properties) => id && enqueue({ k: 'g', n: String(id), p: traits }),
    track: (name: unknown, props?: Properties) => name && enqueue({ k: 't', n: String(name), p: props }),
    reset: newVisitor,
  }
}

import type { Person } from './types'

export interface IdentityKeys {
  userId?: string
  email?: string
}

/** Two records could be one person when no key differs between them. */
export const compatible = (a: IdentityKeys | Person, b: IdentityKeys | Person) =>
  !(a.userId && b.userId && a.userId !== b.userId) && !(a.email && b.email && a.email !== b.email)

export interface IdentifyPlan {
  /** The person the identify is about: an existing one, or undefined for a new one. */
  target: Person | undefined
  /** Another person the identify's keys prove to be the same as the target, to fold into it. */
  merge: Person | undefined
  /** Keys to give the target (those it lacks and no other person holds). */
  setUserId: string | undefined
  setEmail: string | undefined
  /** Whether the visitor id becomes the target's; when it belongs to someone else it stays there. */
  link: boolean
  /** The person who keeps the visitor id, when the identify names someone else. */
  conflictWith: Person | undefined
}

/**
 * Who an identify is about, and what it changes. The rules:
 * - A user id names a person most surely, then an email, then the person the visitor id already
 *   belongs to, if nothing about them contradicts the identify. Failing all, a new person.
 * - One identify that carries both a user id and an email known under two people proves them one
 *   person: the two merge, unless their keys contradict each other.
 * - A visitor id that belongs to one person is never moved to another. On a shared computer that
 *   would hand one person's history to the next; the refusal is recorded instead.
 */
export function planIdentify(
  keys: IdentityKeys,
  found: { byUserId?: Person; byEmail?: Person; ofVisitor?: Person },
): IdentifyPlan {
  const { byUserId, byEmail, ofVisitor } = found
  const target =
    byUserId ??
    (byEmail && compatible(byEmail, keys) ? byEmail : undefined) ??
    (ofVisitor && compatible(ofVisitor, keys) ? ofVisitor : undefined)
  const merge = target && byEmail && byEmail.id !== target.id && compatible(target, byEmail) ? byEmail : undefined
  const emailHeldElsewhere = Boolean(byEmail && byEmail.id !== target?.id && !merge)
  return {
    target,
    merge,
    setUserId: keys.userId && !target?.userId ? keys.userId : undefined,
    // A user id is the surest key: its person may change email, to one no one else holds.
    setEmail: keys.email && !emailHeldElsewhere && (!target?.email || target === byUserId) ? keys.email : undefined,
    link: !ofVisitor || ofVisitor.id === target?.id || ofVisitor.id === merge?.id,
    conflictWith: ofVisitor && ofVisitor.id !== target?.id && ofVisitor.id !== merge?.id ? ofVisitor : undefined,
  }
}

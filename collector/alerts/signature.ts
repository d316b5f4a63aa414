import { createHmac } from 'node:crypto'

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, as Stripe signs its webhooks. */
export const SIGNATURE_HEADER = 'Waymark-Signature'
/** The alert's id, the same on every attempt: the receiver's key for doing its work once. */
export const DELIVERY_HEADER = 'Waymark-Delivery'

const hmac = (secret: string, t: number, body: string) => createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')

/**
 * The signature header of a body sent at `t` (unix seconds). The time is signed with the body, so
 * a receiver that checks it is recent cannot be made to act again on a captured request.
 */
export const signBody = (secret: string, body: string, t: number) => `t=${t},v1=${hmac(secret, t, body)}`

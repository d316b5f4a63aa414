const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A ULID: 48 bits of time then 80 random bits, in Crockford's base 32; sorts by creation time. */
export const ulid = (): string => {
  let time = Date.now()
  let id = ''
  for (let i = 10; i--; time = Math.floor(time / 32)) id = CROCKFORD[time % 32] + id
  crypto.getRandomValues(new Uint8Array(16)).forEach((byte) => (id += CROCKFORD[byte & 31]))
  return id
}

/**
 * Flex-style identifiers: a prefix plus a ULID (48-bit millisecond time, then 80 random bits, in
 * Crockford base32), drawn from the sandbox's seeded generator so a seed always gives the same IDs.
 *
 * @internal
 */
import type { Prng } from "./prng.js"

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/** A ULID whose time part is `timeMs`, so IDs sort like their creation times. */
export const ulid = (timeMs: number, rng: Prng): string => {
  let time = Math.max(0, Math.floor(timeMs))
  const out: Array<string> = new Array(26)
  for (let i = 9; i >= 0; i--) {
    out[i] = crockford[time % 32]!
    time = Math.floor(time / 32)
  }
  for (let i = 10; i < 26; i++) out[i] = crockford[rng.int(32)]!
  return out.join("")
}

export const prefixed = (prefix: string, timeMs: number, rng: Prng): string => `${prefix}${ulid(timeMs, rng)}`

/** Random letters and digits, for secrets, request ids and account ids. */
export const token = (length: number, rng: Prng): string => {
  let out = ""
  for (let i = 0; i < length; i++) out += alphanumeric[rng.int(alphanumeric.length)]
  return out
}

/** Digits only, e.g. for order numbers and UPC codes. */
export const digits = (length: number, rng: Prng): string => {
  let out = ""
  for (let i = 0; i < length; i++) out += String(rng.int(10))
  return out
}

/** `fpi_` + ULID, in either letter case: what Flex accepts as a payment intent ID. */
export const paymentIntentIdPattern = /^fpi_[0-7][0-9A-HJKMNP-TV-Z]{25}$/i

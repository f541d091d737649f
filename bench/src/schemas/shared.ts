/**
 * What the zod and valibot schemas share with `@flex/domain`, so all three do the same work: the ID
 * patterns (prefix + ULID, any letter case), the closed status lists, and the strict RFC 3339 check
 * (a full date-time with a zone, no silent roll-over of 2024-02-30 or 25:00) before a `Date` is made.
 */
import { InvoiceStatus, PaymentIntentStatus, SubscriptionStatus } from "@flex/domain"

const ulid = "[0-7][0-9a-hjkmnp-tv-z]{25}"
export const idPattern = (prefix: string): RegExp => new RegExp(`^${prefix}${ulid}$`, "i")

export const patterns = {
  paymentIntent: idPattern("fpi_"),
  customer: idPattern("fcus_"),
  invoice: idPattern("fin_"),
  subscription: idPattern("fsub_"),
  price: idPattern("fprice_"),
  product: idPattern("fprod_")
}

export const paymentIntentStatuses = PaymentIntentStatus.statuses as unknown as readonly [string, ...Array<string>]
export const invoiceStatuses = InvoiceStatus.statuses as unknown as readonly [string, ...Array<string>]
export const subscriptionStatuses = SubscriptionStatus.statuses as unknown as readonly [string, ...Array<string>]
export const captureMethods = ["automatic", "automatic_async", "manual"] as const

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/

/** The instant of a strict RFC 3339 date-time, or undefined (the same rules as `@flex/domain`'s Timestamp). */
export const parseTimestamp = (input: string): Date | undefined => {
  const match = rfc3339.exec(input)
  if (match === null) return undefined
  const millis = Date.parse(input)
  if (Number.isNaN(millis)) return undefined
  const zone = match[8]!
  const offsetMinutes =
    zone === "Z" || zone === "z"
      ? 0
      : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)))
  const local = new Date(millis + offsetMinutes * 60_000)
  const survives =
    local.getUTCFullYear() === Number(match[1]) &&
    local.getUTCMonth() + 1 === Number(match[2]) &&
    local.getUTCDate() === Number(match[3]) &&
    local.getUTCHours() === Number(match[4]) &&
    local.getUTCMinutes() === Number(match[5]) &&
    local.getUTCSeconds() === Number(match[6])
  return survives ? new Date(millis) : undefined
}

/** The counterpart of `Redacted`: a wrapper whose printed form hides the secret. */
export interface Secret {
  readonly value: string
}
const secretProto = {
  toString: () => "<redacted>",
  toJSON: () => "<redacted>"
}
export const secret = (value: string): Secret => Object.assign(Object.create(secretProto), { value })

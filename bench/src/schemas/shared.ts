/**
 * What the zod and valibot schemas share with `@flex/domain`, so all three do the same work: the ID
 * patterns (prefix + ULID, any letter case), the closed status lists, and the strict RFC 3339 check
 * (`@flex/domain`'s own parser: a full date-time with a zone, no silent roll-over of 2024-02-30 or 25:00)
 * before a `Date` is made.
 */
import { InvoiceStatus, PaymentIntentStatus, SubscriptionStatus, Timestamps } from "@flex/domain"

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

/**
 * The instant of a strict RFC 3339 date-time, or undefined: `@flex/domain`'s own parser (a full
 * date-time with a zone, no roll-over of 2024-02-30 or 25:00), so all three libraries do the same work.
 */
export const parseTimestamp = (input: string): Date | undefined => {
  const millis = Timestamps.parseMillis(input)
  return Number.isNaN(millis) ? undefined : new Date(millis)
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

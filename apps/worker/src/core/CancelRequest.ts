/**
 * A request to cancel one payment intent, and how its request id is derived.
 *
 * The request id comes from the intent id, so submitting the same intent again finds the stored
 * request (and its outcome) instead of cancelling twice. Flex IDs are ULIDs and case-insensitive, so the
 * id is derived from the lower-cased intent id; the API is called with the id exactly as it was given.
 */
import { Ids } from "@flex/domain"
import * as Schema from "effect/Schema"

export const CancelRequest = Schema.Struct({
  requestId: Schema.String,
  paymentIntentId: Schema.String,
  reason: Schema.optional(Schema.String),
  /** Bumped by `--retry-gave-up` so a new execution runs for a request that gave up. */
  generation: Schema.Number
})
export type CancelRequest = typeof CancelRequest.Type

export const requestIdFor = (paymentIntentId: string): string => `cancel_${paymentIntentId.toLowerCase()}`

export const make = (paymentIntentId: string, reason?: string): CancelRequest => ({
  requestId: requestIdFor(paymentIntentId),
  paymentIntentId,
  ...(reason === undefined || reason === "" ? {} : { reason }),
  generation: 0
})

export const isValidIntentId: (id: string) => boolean = Ids.isPaymentIntentId

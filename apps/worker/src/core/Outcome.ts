/**
 * The one terminal result every cancellation request ends in, with what a finance person needs:
 * the intent's status, the amount released, how many cancel attempts and API calls it took, and why.
 */
import * as Schema from "effect/Schema"

const details = {
  paymentIntentId: Schema.String,
  /** Cancel attempts made (POSTs). */
  attempts: Schema.Number,
  /** Every Flex API call made for this request, reads included. */
  apiCalls: Schema.Number
}

/** Canceled by this request; `amountReleased` is the authorization it released, in cents. */
export class Canceled extends Schema.TaggedClass<Canceled>()("Canceled", {
  ...details,
  status: Schema.String,
  amountReleased: Schema.Number
}) {}

/** Already canceled before this request's cancel landed: nothing to do. */
export class AlreadyCanceled extends Schema.TaggedClass<AlreadyCanceled>()("AlreadyCanceled", {
  ...details,
  status: Schema.String
}) {}

/** Cannot be canceled (succeeded: refund instead; still processing after every retry). */
export class NotCancelable extends Schema.TaggedClass<NotCancelable>()("NotCancelable", {
  ...details,
  status: Schema.String,
  reason: Schema.String
}) {}

/** Flex has no such intent. */
export class NotFound extends Schema.TaggedClass<NotFound>()("NotFound", details) {}

/** Flex refused the key (401/403): nothing will change until someone fixes the credentials. */
export class Rejected extends Schema.TaggedClass<Rejected>()("Rejected", { ...details, reason: Schema.String }) {}

/** Every attempt failed with a transient error, or the intent could not be read. */
export class GaveUp extends Schema.TaggedClass<GaveUp>()("GaveUp", {
  ...details,
  /** The last status read, when a read succeeded. */
  status: Schema.optional(Schema.String),
  lastError: Schema.String
}) {}

export const Outcome = Schema.Union(Canceled, AlreadyCanceled, NotCancelable, NotFound, Rejected, GaveUp)
export type Outcome = typeof Outcome.Type
export type Tag = Outcome["_tag"]

export const tags: ReadonlyArray<Tag> = [
  "Canceled",
  "AlreadyCanceled",
  "NotCancelable",
  "NotFound",
  "Rejected",
  "GaveUp"
]

/** The snake_case name used in reports and JSON. */
export const key: { readonly [K in Tag]: string } = {
  Canceled: "canceled",
  AlreadyCanceled: "already_canceled",
  NotCancelable: "not_cancelable",
  NotFound: "not_found",
  Rejected: "rejected",
  GaveUp: "gave_up"
}

/** Outcomes a person has to look at. */
export const needsAttention = (outcome: Outcome): boolean =>
  outcome._tag === "NotCancelable" ||
  outcome._tag === "NotFound" ||
  outcome._tag === "Rejected" ||
  outcome._tag === "GaveUp"

/** Why a person has to look at it, in one line. */
export const reasonOf = (outcome: Outcome): string => {
  switch (outcome._tag) {
    case "NotCancelable":
      return `${outcome.status}: ${outcome.reason}`
    case "NotFound":
      return "no such payment intent"
    case "Rejected":
      return outcome.reason
    case "GaveUp":
      return outcome.lastError
    case "Canceled":
    case "AlreadyCanceled":
      return ""
  }
}

export const amountReleased = (outcome: Outcome): number => (outcome._tag === "Canceled" ? outcome.amountReleased : 0)

/** The JSON form the HTTP API and `flex-worker show --json` give an outcome. */
export const toJson = (outcome: Outcome) => ({
  outcome: key[outcome._tag],
  payment_intent_id: outcome.paymentIntentId,
  ...("status" in outcome && outcome.status !== undefined ? { status: outcome.status } : {}),
  amount_released: amountReleased(outcome),
  attempts: outcome.attempts,
  api_calls: outcome.apiCalls,
  ...(reasonOf(outcome) === "" ? {} : { reason: reasonOf(outcome) })
})

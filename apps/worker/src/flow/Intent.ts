/**
 * What the flow reads of a payment intent: its status and the amounts that say what a cancel released.
 *
 * A Flex response carries much more (the customer, an expanded invoice and subscription, metadata),
 * and Flex says its objects gain fields and leaves some shapes open. None of that decides an outcome,
 * so none of it may stop one: the client decodes the response with {@link View}, which needs only the
 * fields below. The domain's whole `PaymentIntent` schema is still checked, and a part that does not
 * match it is named in `unread` (the activity logs one warning), never a reason to give up on an
 * intent that was in fact canceled. The status is read as a string: a status this version does not
 * know is the flow's to judge (never as canceled), not a decode error.
 */
import { DecodeFailure, Decoder, Money, PaymentIntent } from "@flex/domain"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** The intent as the flow keeps it (also in the engine's stored activity results). */
export const Snapshot = Schema.Struct({
  status: Schema.String,
  amount: Schema.Number,
  amount_capturable: Schema.Number,
  amount_received: Schema.Number,
  capture_method: Schema.String,
  has_charge: Schema.Boolean
})
export type Snapshot = typeof Snapshot.Type

const optionalAmount = Schema.optional(Schema.NullOr(Money.Amount))

/** The wire fields {@link Snapshot} is made of: all a decision needs. */
const Essentials = Schema.Struct({
  status: Schema.String,
  amount: Money.Amount,
  amount_capturable: optionalAmount,
  amount_received: optionalAmount,
  capture_method: Schema.String,
  latest_charge: Schema.optional(Schema.NullOr(Schema.String))
})

const decodeEssentials = Decoder.decodeUnknownEither(Essentials)
const decodeWhole = Decoder.decodeUnknownEither(PaymentIntent.PaymentIntent)

/** A decoded view: the snapshot, and the path of the first part the domain's schema refused, if any. */
export const Viewed = Schema.Struct({ snapshot: Snapshot, unread: Schema.optional(Schema.String) })
export type Viewed = typeof Viewed.Type

/** The schema the flow passes to the client (`{ schema: View }`). */
export const View: Schema.Schema<Viewed, unknown> = Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(Viewed), {
  strict: true,
  decode: (input) => {
    const essentials = decodeEssentials(input)
    if (Either.isLeft(essentials)) return ParseResult.fail(essentials.left)
    const e = essentials.right
    const snapshot: Snapshot = {
      status: e.status,
      amount: e.amount,
      amount_capturable: e.amount_capturable ?? 0,
      amount_received: e.amount_received ?? 0,
      capture_method: e.capture_method,
      has_charge: e.latest_charge != null
    }
    const whole = decodeWhole(input)
    if (Either.isRight(whole)) return ParseResult.succeed({ snapshot })
    const failure = DecodeFailure.fromParseError(whole.left)
    return ParseResult.succeed({ snapshot, unread: failure.path === "" ? failure.message : failure.path })
  },
  encode: (viewed, _, ast) => ParseResult.fail(new ParseResult.Forbidden(ast, viewed, "a view is never encoded"))
})

/**
 * A payment intent (`fpi_…`): one attempt to collect a payment, from authorization to capture or
 * cancellation. Its status lifecycle is in {@link PaymentIntentStatus}.
 *
 * Also the response envelopes of the payment-intent endpoints: `{"payment_intent": …}` for get and
 * cancel, `{"payment_intents": […]}` for list (Flex sends no `has_more`: a page shorter than the
 * limit is the last one).
 *
 * Two types: {@link PaymentIntent} as decoded (for Effect code) and {@link Json}, the wire form, for
 * sharing between services and for code without Effect ({@link parse}, {@link safeParse}).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { CustomerId, InvoiceId } from "./Ids.js"
import { PaymentIntent, type PaymentIntentEncoded } from "./internal/billing.js"
import { parser, type SafeParseResult } from "./Json.js"

/**
 * The schemas and types of a payment intent and its parts. They live with the invoice and subscription
 * schemas, which refer back to payment intents, in one internal module, so no import cycle runs between
 * the entity modules.
 *
 * @category schemas
 * @since 0.1.0
 */
export {
  /**
   * How the funds are captured: `automatic` (the only value Flex's docs print) or `manual` (the amount is
   * held, then captured or released by a cancel; split-cart holds work this way). `automatic_async` is
   * Stripe's and not documented by Flex. Strict: a manual-capture intent holds an authorization that a cancel
   * releases, so a misread capture method would misreport money.
   *
   * @category schemas
   * @since 0.1.0
   */
  CaptureMethod,
  /**
   * Why the last payment attempt failed (newest docs only). Flex documents the five fields as strings and
   * nothing more; the meanings noted are Stripe's, whose object this mirrors.
   *
   * @category schemas
   * @since 0.1.0
   */
  LastPaymentError,
  /**
   * Which card of a split cart paid: the HSA/FSA card (`primary`, the only value Flex prints) or the regular
   * card for the rest (`secondary`, inferred). An unknown value passes through as a string.
   *
   * @category schemas
   * @since 0.1.0
   */
  PaymentCardType,
  /**
   * A payment intent as decoded: branded IDs, `Amount`s, `DateTime.Utc` timestamps, a `Redacted` client
   * secret. Its wire form is {@link PaymentIntentEncoded}.
   *
   * @category models
   * @since 0.1.0
   */
  PaymentIntent,
  /**
   * A payment intent in its wire form: exactly the JSON Flex sends (snake_case, IDs and timestamps as
   * strings, amounts as numbers, the client secret in clear). The type to share between services.
   *
   * @category models
   * @since 0.1.0
   */
  type PaymentIntentEncoded,
  /**
   * Where the funds go in a Connect-style transfer. The newest docs show it as `{}`, so both fields are
   * optional.
   *
   * @category schemas
   * @since 0.1.0
   */
  TransferData
} from "./internal/billing.js"

/**
 * The wire form of a payment intent: exactly the JSON Flex sends (the same type as
 * `PaymentIntentEncoded`). Share this type between services; `JSON.stringify` keeps it intact.
 * `Schema.decodeUnknownSync(PaymentIntent)` turns it into a {@link PaymentIntent},
 * `Schema.encodeSync(PaymentIntent)` turns one back.
 *
 * @category models
 * @since 0.1.0
 */
export type Json = PaymentIntentEncoded

const json = parser(PaymentIntent, "PaymentIntent")

/**
 * Checks that a value is a payment intent in its wire form and returns it (unknown fields dropped);
 * throws a `Json.ParseFailure` naming the field otherwise. Needs nothing from Effect.
 *
 * @example
 * ```ts
 * import { PaymentIntent } from "@flex/domain"
 *
 * declare const message: string // from a queue, say
 * const intent: PaymentIntent.Json = PaymentIntent.parse(JSON.parse(message))
 * console.log(intent.payment_intent_id, intent.status, intent.created_at) // plain strings
 * ```
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse: (input: unknown) => Json = json.parse

/**
 * As {@link parse}, without throwing: `{ success: true, data }` or `{ success: false, error }`.
 *
 * @category parsing
 * @since 0.1.0
 */
export const safeParse: (input: unknown) => SafeParseResult<Json> = json.safeParse

/**
 * The body of `GET /v1/payment_intents/{id}` and `POST /v1/payment_intents/{id}/cancel`.
 *
 * @category envelopes
 * @since 0.1.0
 */
export const Envelope = Schema.Struct({
  /** The intent asked for or canceled. */
  payment_intent: PaymentIntent
}).annotations({
  identifier: "PaymentIntentEnvelope"
})

/**
 * @category envelopes
 * @since 0.1.0
 */
export interface Envelope extends Schema.Schema.Type<typeof Envelope> {}

/**
 * The body of `GET /v1/payment_intents`.
 *
 * @category envelopes
 * @since 0.1.0
 */
export const ListEnvelope = Schema.Struct({
  /** One page of intents, newest first; a page shorter than the limit is the last. */
  payment_intents: Schema.Array(PaymentIntent)
}).annotations({
  identifier: "PaymentIntentListEnvelope"
})

/**
 * @category envelopes
 * @since 0.1.0
 */
export interface ListEnvelope extends Schema.Schema.Type<typeof ListEnvelope> {}

/**
 * The customer's ID, whether `customer` came as an ID or expanded.
 *
 * @category getters
 * @since 0.1.0
 */
export const customerId = (intent: PaymentIntent): CustomerId | undefined =>
  intent.customer == null
    ? undefined
    : typeof intent.customer === "string"
      ? intent.customer
      : intent.customer.customer_id

/**
 * The invoice's ID, whether `invoice` came as an ID or expanded.
 *
 * @category getters
 * @since 0.1.0
 */
export const invoiceId = (intent: PaymentIntent): InvoiceId | undefined =>
  intent.invoice == null ? undefined : typeof intent.invoice === "string" ? intent.invoice : intent.invoice.invoice_id

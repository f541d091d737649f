/**
 * A payment method, as it appears when `payment_intent.payment_method` is expanded.
 *
 * Only the ID is certain; the rest is what the docs show and is optional. The documented
 * `billing_details` (`email`, `address`, `name`, `phone`) is not modelled: nothing here reads it, and an
 * unknown field is dropped, never an error.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { PaymentMethodId } from "./Ids.js"
import { optional } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"
import { Metadata } from "./Metadata.js"
import { Timestamp } from "./Timestamps.js"

/**
 * A card's details. Flex documents the fields' names and types; the notes say what the docs add.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Card = Schema.Struct({
  /** The card network, e.g. `american_express` (the only value Flex prints). */
  brand: optional(Schema.String),
  /** The issuing country (a string). Not documented by Flex beyond its name and type. */
  country: optional(Schema.String),
  /** The expiry month (an integer). */
  exp_month: optional(Schema.Int),
  /** The expiry year (an integer). */
  exp_year: optional(Schema.Int),
  /** Identifies the card number across payment methods (Stripe's meaning). Not documented by Flex beyond its name and type. */
  fingerprint: optional(Schema.String),
  /** The kind of card, e.g. `credit` (the only value Flex prints). */
  funding: optional(Schema.String),
  /** The last four digits of the card number. */
  last4: optional(Schema.String)
}).annotations({ identifier: "Card" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const PaymentMethod = Schema.Struct({
  /** The payment method's ID. Flex documents no prefix for it. Required. */
  payment_method_id: PaymentMethodId,
  /** The card's details (see {@link Card}). */
  card: optional(Card),
  /** The customer who owns it (a string). Not documented by Flex beyond its name and type. */
  customer: optional(Schema.String),
  /** Key/value data the merchant attached (see `Metadata`). */
  metadata: optional(Metadata),
  /** Whether it may be charged without the customer present. Not documented by Flex beyond its name and type. */
  off_session: optional(Schema.Boolean),
  /** When the payment method was created: an ISO 8601 date-time. */
  created_at: optional(Timestamp),
  /** Whether this is test data, made with a `fsk_test_…` key. */
  test_mode: optional(Schema.Boolean)
}).annotations({ identifier: "PaymentMethod" })

/**
 * @category models
 * @since 0.1.0
 */
export interface PaymentMethod extends Schema.Schema.Type<typeof PaymentMethod> {}

/**
 * @category models
 * @since 0.1.0
 */
export interface PaymentMethodEncoded extends Schema.Schema.Encoded<typeof PaymentMethod> {}

/**
 * The wire form of a payment method: exactly the JSON Flex sends (the same type as `PaymentMethodEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = PaymentMethodEncoded

const json = parser(PaymentMethod, "PaymentMethod")

/**
 * Checks that a value is a payment method in its wire form and returns it (unknown fields dropped);
 * throws a `Json.ParseFailure` naming the field otherwise. Needs nothing from Effect.
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

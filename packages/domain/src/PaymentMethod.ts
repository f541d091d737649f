/**
 * A payment method, as it appears when `payment_intent.payment_method` is expanded.
 *
 * Only the ID is certain; the rest is what the docs show and is optional.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { PaymentMethodId } from "./Ids.js"
import { optional } from "./internal/schema.js"
import { Metadata } from "./Metadata.js"
import { Timestamp } from "./Timestamps.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const Card = Schema.Struct({
  brand: optional(Schema.String),
  country: optional(Schema.String),
  exp_month: optional(Schema.Int),
  exp_year: optional(Schema.Int),
  fingerprint: optional(Schema.String),
  funding: optional(Schema.String),
  last4: optional(Schema.String)
}).annotations({ identifier: "Card" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const PaymentMethod = Schema.Struct({
  payment_method_id: PaymentMethodId,
  card: optional(Card),
  customer: optional(Schema.String),
  metadata: optional(Metadata),
  off_session: optional(Schema.Boolean),
  created_at: optional(Timestamp),
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

/**
 * A price (`fprice_…`) of a product, one-time or recurring.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Expandable } from "./Expandable.js"
import { PriceId, ProductId } from "./Ids.js"
import { Count, openEnum, optional } from "./internal/schema.js"
import { Metadata } from "./Metadata.js"
import { Amount } from "./Money.js"
import { HsaFsaEligibility, Product } from "./Product.js"
import { Timestamp } from "./Timestamps.js"

/**
 * Billing interval. Flex uses adjectives (`daily`), unlike Stripe's `day`; only `daily` is printed.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Interval = openEnum("daily", "weekly", "monthly", "yearly").annotations({ identifier: "Interval" })

/**
 * The recurrence of a recurring price.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Recurring = Schema.Struct({
  interval: optional(Interval),
  interval_count: optional(Count),
  trial_period_days: optional(Count)
}).annotations({ identifier: "Recurring" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Recurring extends Schema.Schema.Type<typeof Recurring> {}

/**
 * @category schemas
 * @since 0.1.0
 */
export const PriceType = openEnum("one_time", "recurring").annotations({ identifier: "PriceType" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const Price = Schema.Struct({
  price_id: PriceId,
  description: optional(Schema.String),
  trial_period_days: optional(Count),
  unit_amount: Amount,
  recurring: optional(Recurring),
  active: Schema.Boolean,
  product: Expandable(ProductId, Product),
  created_at: Timestamp,
  type: PriceType,
  metadata: optional(Metadata),
  hsa_fsa_eligibility: optional(HsaFsaEligibility),
  test_mode: Schema.Boolean
}).annotations({ identifier: "Price" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Price extends Schema.Schema.Type<typeof Price> {}

/**
 * @category models
 * @since 0.1.0
 */
export interface PriceEncoded extends Schema.Schema.Encoded<typeof Price> {}

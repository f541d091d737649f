/**
 * A price (`fprice_…`) of a product, one-time or recurring.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Expandable } from "./Expandable.js"
import { PriceId, ProductId } from "./Ids.js"
import { Count, openEnum, optional } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"
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
  /** How often the price bills (see {@link Interval}); Flex prints only `daily`. */
  interval: optional(Interval),
  /** How many intervals between two bills (the docs' example is `1`). */
  interval_count: optional(Count),
  /** Days of free trial before the first bill (the docs' example is `1`). */
  trial_period_days: optional(Count)
}).annotations({ identifier: "Recurring" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Recurring extends Schema.Schema.Type<typeof Recurring> {}

/**
 * Whether a price is charged once or recurs. Flex's docs say prices are one or the other but print only
 * `one_time`; an unknown value passes through as a string.
 *
 * @category schemas
 * @since 0.1.0
 */
export const PriceType = openEnum("one_time", "recurring").annotations({ identifier: "PriceType" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const Price = Schema.Struct({
  /** The ID: `fprice_` and a ULID, e.g. `fprice_01HT5GKN33F6E31WE2RF1GYYKH`. Required. */
  price_id: PriceId,
  /** A description of the price. Not documented by Flex beyond its name and type. */
  description: optional(Schema.String),
  /** Days of free trial before the first bill. Not documented by Flex beyond its name and type. */
  trial_period_days: optional(Count),
  /** The price of one unit, in cents. Required. */
  unit_amount: Amount,
  /** How a recurring price recurs (see {@link Recurring}); absent for a one-time price. */
  recurring: optional(Recurring),
  /** Whether the price can be used for new purchases. Required. */
  active: Schema.Boolean,
  /**
   * The product sold: its ID (`fprod_…`) or the whole `Product` (older docs show it expanded; Get Price
   * has a flag to expand it). Required.
   */
  product: Expandable(ProductId, Product),
  /** When the price was created: an ISO 8601 date-time. Required. */
  created_at: Timestamp,
  /** `one_time` (the only value Flex prints) or `recurring` (see {@link PriceType}). Required. */
  type: PriceType,
  /** Key/value data the merchant attached (see `Metadata`). */
  metadata: optional(Metadata),
  /** The price's HSA/FSA eligibility category (see `Product.HsaFsaEligibility`). */
  hsa_fsa_eligibility: optional(HsaFsaEligibility),
  /** Whether this is test data, made with a `fsk_test_…` key. Required. */
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

/**
 * The wire form of a price: exactly the JSON Flex sends (the same type as `PriceEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = PriceEncoded

const json = parser(Price, "Price")

/**
 * Checks that a value is a price in its wire form and returns it (unknown fields dropped);
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

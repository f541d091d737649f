/**
 * One line of a subscription: a price and a quantity.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Expandable } from "./Expandable.js"
import { PriceId, SubscriptionItemId } from "./Ids.js"
import { Count, optional } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"
import { Price } from "./Price.js"
import { Timestamp } from "./Timestamps.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const SubscriptionItem = Schema.Struct({
  /** The item's ID. Flex documents no prefix for it. Required. */
  subscription_item_id: SubscriptionItemId,
  /**
   * The price subscribed to: its ID (`fprice_…`) or the whole `Price`. Expanded in older docs, dropped
   * from the newest examples: optional, and either form.
   */
  price: optional(Expandable(PriceId, Price)),
  /** How many units of the price (a whole number). */
  quantity: optional(Count),
  /** When the item was created: an ISO 8601 date-time. */
  created_at: optional(Timestamp),
  /** When the item last changed: an ISO 8601 date-time. */
  updated_at: optional(Timestamp),
  /** Whether this is test data, made with a `fsk_test_…` key. */
  test_mode: optional(Schema.Boolean)
}).annotations({ identifier: "SubscriptionItem" })

/**
 * @category models
 * @since 0.1.0
 */
export interface SubscriptionItem extends Schema.Schema.Type<typeof SubscriptionItem> {}

/**
 * @category models
 * @since 0.1.0
 */
export interface SubscriptionItemEncoded extends Schema.Schema.Encoded<typeof SubscriptionItem> {}

/**
 * The wire form of a subscription item: exactly the JSON Flex sends (the same type as `SubscriptionItemEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = SubscriptionItemEncoded

const json = parser(SubscriptionItem, "SubscriptionItem")

/**
 * Checks that a value is a subscription item in its wire form and returns it (unknown fields dropped);
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

/**
 * One line of a subscription: a price and a quantity.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Expandable } from "./Expandable.js"
import { PriceId, SubscriptionItemId } from "./Ids.js"
import { Count, optional } from "./internal/schema.js"
import { Price } from "./Price.js"
import { Timestamp } from "./Timestamps.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const SubscriptionItem = Schema.Struct({
  subscription_item_id: SubscriptionItemId,
  /** Expanded in older docs, dropped from the newest examples: optional, and either form. */
  price: optional(Expandable(PriceId, Price)),
  quantity: optional(Count),
  created_at: optional(Timestamp),
  updated_at: optional(Timestamp),
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

/**
 * A subscription (`fsub_…`) to one or more prices, billed through invoices.
 *
 * Only `subscription_id`, `created_at` and `items` are certainly required; every other field is
 * optional, as the consumer variant of the endpoint omits several of them.
 *
 * Two types: {@link Subscription} as decoded (for Effect code) and {@link Json}, the wire form, for
 * sharing between services and for code without Effect ({@link parse}, {@link safeParse}).
 *
 * @since 0.1.0
 */

import { Subscription, type SubscriptionEncoded } from "./internal/billing.js"
import { parser, type SafeParseResult } from "./Json.js"

/**
 * The schemas and types of a subscription. They live with the payment intent and invoice schemas,
 * which refer back to subscriptions, in one internal module, so no import cycle runs between the entity
 * modules.
 *
 * @category schemas
 * @since 0.1.0
 */
export {
  /**
   * The secrets a browser needs to confirm a subscription's first setup or payment. They are secrets: decoded
   * into `Redacted` so that logging a subscription never prints them (their wire form, see
   * `Subscription.Json`, is the plain string).
   *
   * @category schemas
   * @since 0.1.0
   */
  ClientSecret,
  /**
   * What a change of items does to the current period's bill: `always_invoice` (the only value Flex prints),
   * `create_prorations` or `none` (inferred from Stripe). An unknown value passes through.
   *
   * @category schemas
   * @since 0.1.0
   */
  ProrationBehavior,
  /**
   * A subscription as decoded. Its wire form is {@link SubscriptionEncoded}.
   *
   * @category models
   * @since 0.1.0
   */
  Subscription,
  /**
   * A subscription in its wire form, exactly as Flex sends it.
   *
   * @category models
   * @since 0.1.0
   */
  type SubscriptionEncoded
} from "./internal/billing.js"

/**
 * The wire form of a subscription: exactly the JSON Flex sends (the same type as `SubscriptionEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = SubscriptionEncoded

const json = parser(Subscription, "Subscription")

/**
 * Checks that a value is a subscription in its wire form and returns it (unknown fields dropped);
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

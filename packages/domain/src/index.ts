/**
 * @since 0.1.0
 */

/**
 * Customers (`fcus_…`).
 *
 * @since 0.1.0
 */
export * as Customer from "./Customer.js"
/**
 * Decode failures as a path and a message.
 *
 * @since 0.1.0
 */
export * as DecodeFailure from "./DecodeFailure.js"
/**
 * Decoders with Effect's answers, found faster for valid input.
 *
 * @since 0.1.0
 */
export * as Decoder from "./Decoder.js"

/**
 * Flex's error body.
 *
 * @since 0.1.0
 */
export * as ErrorBody from "./ErrorBody.js"

/**
 * Expandable references: an ID or the expanded object.
 *
 * @since 0.1.0
 */
export * as Expandable from "./Expandable.js"

/**
 * Branded IDs.
 *
 * @since 0.1.0
 */
export * as Ids from "./Ids.js"
/**
 * Invoices (`fin_…`).
 *
 * @since 0.1.0
 */
export * as Invoice from "./Invoice.js"
/**
 * The invoice status state machine.
 *
 * @since 0.1.0
 */
export * as InvoiceStatus from "./InvoiceStatus.js"
/**
 * The wire form of Flex objects: `ParseFailure`, `parser` and the `safeParse` result, for code without Effect.
 *
 * @since 0.1.0
 */
export * as Json from "./Json.js"

/**
 * Metadata maps.
 *
 * @since 0.1.0
 */
export * as Metadata from "./Metadata.js"

/**
 * Amounts in cents.
 *
 * @since 0.1.0
 */
export * as Money from "./Money.js"

/**
 * Payment intents (`fpi_…`) and their response envelopes.
 *
 * @since 0.1.0
 */
export * as PaymentIntent from "./PaymentIntent.js"

/**
 * The payment intent status state machine and cancelability.
 *
 * @since 0.1.0
 */
export * as PaymentIntentStatus from "./PaymentIntentStatus.js"

/**
 * Payment methods.
 *
 * @since 0.1.0
 */
export * as PaymentMethod from "./PaymentMethod.js"

/**
 * Prices (`fprice_…`) and recurrences.
 *
 * @since 0.1.0
 */
export * as Price from "./Price.js"

/**
 * Products (`fprod_…`).
 *
 * @since 0.1.0
 */
export * as Product from "./Product.js"

/**
 * Shipping addresses.
 *
 * @since 0.1.0
 */
export * as ShippingAddress from "./ShippingAddress.js"

/**
 * Subscriptions (`fsub_…`).
 *
 * @since 0.1.0
 */
export * as Subscription from "./Subscription.js"

/**
 * Subscription items.
 *
 * @since 0.1.0
 */
export * as SubscriptionItem from "./SubscriptionItem.js"

/**
 * The subscription status state machine.
 *
 * @since 0.1.0
 */
export * as SubscriptionStatus from "./SubscriptionStatus.js"

/**
 * RFC 3339 timestamps as `DateTime.Utc`.
 *
 * @since 0.1.0
 */
export * as Timestamps from "./Timestamps.js"

/**
 * Webhook signatures (the Svix scheme): verify a delivery and decode its event, or sign one.
 *
 * @since 0.1.0
 */
export * as Webhook from "./Webhook.js"

/**
 * Why a webhook request was refused.
 *
 * @since 0.1.0
 */
export * as WebhookError from "./WebhookError.js"

/**
 * The events Flex sends to webhooks, discriminated by `event_type`.
 *
 * @since 0.1.0
 */
export * as WebhookEvent from "./WebhookEvent.js"

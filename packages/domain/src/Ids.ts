/**
 * Branded identifiers of Flex objects.
 *
 * Flex IDs are a prefix plus a ULID (26 characters of Crockford base32). The docs print them in upper
 * case and live sandbox data shows lower case, so both are accepted; the value is kept exactly as it
 * came, so it encodes back to the same wire string. Objects whose prefix Flex does not document
 * (subscription items, shipping addresses, charges, payment methods) get a brand on a non-empty string.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { preview } from "./internal/schema.js"

const ulid = "[0-7][0-9a-hjkmnp-tv-z]{25}"

const prefixed = <const Brand extends string>(brand: Brand, prefix: string, noun: string) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^${prefix}${ulid}$`, "i"), {
      message: (issue) => ({
        message: `Expected ${noun} ID (${prefix} followed by a 26-character ULID), got ${preview(issue.actual)}`,
        override: true
      })
    }),
    Schema.brand(brand),
    Schema.annotations({ identifier: brand, description: `${noun} ID, ${prefix} + ULID` })
  )

const opaque = <const Brand extends string>(brand: Brand, noun: string) =>
  Schema.String.pipe(
    Schema.minLength(1, {
      message: () => ({ message: `Expected ${noun} ID, got an empty string`, override: true })
    }),
    Schema.brand(brand),
    Schema.annotations({ identifier: brand, description: `${noun} ID` })
  )

/**
 * @category ids
 * @since 0.1.0
 */
export const PaymentIntentId = prefixed("PaymentIntentId", "fpi_", "a payment intent")
/**
 * @category ids
 * @since 0.1.0
 */
export type PaymentIntentId = typeof PaymentIntentId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const CustomerId = prefixed("CustomerId", "fcus_", "a customer")
/**
 * @category ids
 * @since 0.1.0
 */
export type CustomerId = typeof CustomerId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const InvoiceId = prefixed("InvoiceId", "fin_", "an invoice")
/**
 * @category ids
 * @since 0.1.0
 */
export type InvoiceId = typeof InvoiceId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const SubscriptionId = prefixed("SubscriptionId", "fsub_", "a subscription")
/**
 * @category ids
 * @since 0.1.0
 */
export type SubscriptionId = typeof SubscriptionId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const PriceId = prefixed("PriceId", "fprice_", "a price")
/**
 * @category ids
 * @since 0.1.0
 */
export type PriceId = typeof PriceId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const ProductId = prefixed("ProductId", "fprod_", "a product")
/**
 * @category ids
 * @since 0.1.0
 */
export type ProductId = typeof ProductId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const SubscriptionItemId = opaque("SubscriptionItemId", "a subscription item")
/**
 * @category ids
 * @since 0.1.0
 */
export type SubscriptionItemId = typeof SubscriptionItemId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const ShippingAddressId = opaque("ShippingAddressId", "a shipping address")
/**
 * @category ids
 * @since 0.1.0
 */
export type ShippingAddressId = typeof ShippingAddressId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const ChargeId = opaque("ChargeId", "a charge")
/**
 * @category ids
 * @since 0.1.0
 */
export type ChargeId = typeof ChargeId.Type

/**
 * @category ids
 * @since 0.1.0
 */
export const PaymentMethodId = opaque("PaymentMethodId", "a payment method")
/**
 * @category ids
 * @since 0.1.0
 */
export type PaymentMethodId = typeof PaymentMethodId.Type

/**
 * True when a string is a well-formed payment intent ID; for validating user input before any I/O.
 *
 * @category guards
 * @since 0.1.0
 */
export const isPaymentIntentId: (u: unknown) => u is PaymentIntentId = Schema.is(PaymentIntentId)

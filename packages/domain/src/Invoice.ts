/**
 * An invoice (`fin_…`). Each billing period of a subscription generates one; its payment is a
 * payment intent, which is why `invoice.payment_intent` and `payment_intent.invoice` refer to each other.
 *
 * Two types: {@link Invoice} as decoded (for Effect code) and {@link Json}, the wire form, for sharing
 * between services and for code without Effect ({@link parse}, {@link safeParse}).
 *
 * @since 0.1.0
 */
import { Invoice, type InvoiceEncoded } from "./internal/billing.js"
import { parser, type SafeParseResult } from "./Json.js"

/**
 * The schemas and types of an invoice. They live with the payment intent and subscription schemas,
 * which refer back to invoices, in one internal module, so no import cycle runs between the entity
 * modules.
 *
 * @category schemas
 * @since 0.1.0
 */
export {
  /**
   * How an invoice is collected: `charge_automatically` (the only value Flex prints) or `send_invoice`
   * (inferred from Stripe). An unknown value passes through as a string.
   *
   * @category schemas
   * @since 0.1.0
   */
  CollectionMethod,
  /**
   * An invoice as decoded. Its wire form is {@link InvoiceEncoded}.
   *
   * @category models
   * @since 0.1.0
   */
  Invoice,
  /**
   * An invoice in its wire form, exactly as Flex sends it.
   *
   * @category models
   * @since 0.1.0
   */
  type InvoiceEncoded
} from "./internal/billing.js"

/**
 * The wire form of an invoice: exactly the JSON Flex sends (the same type as `InvoiceEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = InvoiceEncoded

const json = parser(Invoice, "Invoice")

/**
 * Checks that a value is an invoice in its wire form and returns it (unknown fields dropped); throws a
 * `Json.ParseFailure` naming the field otherwise. Needs nothing from Effect.
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

/**
 * A customer's shipping address (`customer.shipping`).
 *
 * Every generation of the docs lists the same fields in the same order, so which are required is
 * unknown: all are optional here, and a missing one never fails a response.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ShippingAddressId } from "./Ids.js"
import { optional } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const ShippingAddress = Schema.Struct({
  /** The address's ID. Flex documents no prefix for it. */
  shipping_address_id: optional(ShippingAddressId),
  /** The street address, e.g. `123 Main St`. */
  line1: optional(Schema.String),
  /** The second address line, e.g. `Suite 100`. */
  line2: optional(Schema.String),
  /** The city, e.g. `San Francisco`. */
  city: optional(Schema.String),
  /** The state, e.g. `CA`. */
  state: optional(Schema.String),
  /** The postal code, e.g. `94107`. */
  postal_code: optional(Schema.String),
  /** The two-letter country code, e.g. `US`. */
  country: optional(Schema.String)
}).annotations({ identifier: "ShippingAddress" })

/**
 * @category models
 * @since 0.1.0
 */
export interface ShippingAddress extends Schema.Schema.Type<typeof ShippingAddress> {}

/**
 * @category models
 * @since 0.1.0
 */
export interface ShippingAddressEncoded extends Schema.Schema.Encoded<typeof ShippingAddress> {}

/**
 * The wire form of a shipping address: exactly the JSON Flex sends (the same type as `ShippingAddressEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = ShippingAddressEncoded

const json = parser(ShippingAddress, "ShippingAddress")

/**
 * Checks that a value is a shipping address in its wire form and returns it (unknown fields dropped);
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

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

/**
 * @category schemas
 * @since 0.1.0
 */
export const ShippingAddress = Schema.Struct({
  shipping_address_id: optional(ShippingAddressId),
  line1: optional(Schema.String),
  line2: optional(Schema.String),
  city: optional(Schema.String),
  state: optional(Schema.String),
  postal_code: optional(Schema.String),
  /** Two-letter country code, e.g. `US`. */
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

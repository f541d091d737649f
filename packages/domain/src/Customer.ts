/**
 * A Flex customer (`fcus_…`), as returned expanded inside payment intents, invoices and subscriptions.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CustomerId } from "./Ids.js"
import { optional } from "./internal/schema.js"
import { Metadata } from "./Metadata.js"
import { ShippingAddress } from "./ShippingAddress.js"
import { Timestamp } from "./Timestamps.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const Customer = Schema.Struct({
  customer_id: CustomerId,
  first_name: Schema.String,
  last_name: Schema.String,
  email: Schema.String,
  /** E.164, e.g. `+15555555555`. */
  phone: optional(Schema.String),
  employer: optional(Schema.String),
  shipping: optional(ShippingAddress),
  metadata: optional(Metadata),
  created_at: Timestamp,
  test_mode: Schema.Boolean
}).annotations({ identifier: "Customer" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Customer extends Schema.Schema.Type<typeof Customer> {}

/**
 * @category models
 * @since 0.1.0
 */
export interface CustomerEncoded extends Schema.Schema.Encoded<typeof Customer> {}

/**
 * A Flex customer (`fcus_…`), as returned expanded inside payment intents, invoices and subscriptions.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CustomerId } from "./Ids.js"
import { optional } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"
import { Metadata } from "./Metadata.js"
import { ShippingAddress } from "./ShippingAddress.js"
import { Timestamp } from "./Timestamps.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const Customer = Schema.Struct({
  /** The ID: `fcus_` and a ULID, e.g. `fcus_01HACM7FZ1084XB1GB6053VM0D`. Required. */
  customer_id: CustomerId,
  /** The customer's first name. Required. */
  first_name: Schema.String,
  /** The customer's last name. Required. */
  last_name: Schema.String,
  /** The customer's e-mail address (documented as an e-mail; not checked further here). Required. */
  email: Schema.String,
  /** The customer's phone number, E.164 in the docs' example (`+15555555555`). */
  phone: optional(Schema.String),
  /** The customer's employer (a string). Not documented by Flex beyond its name and type. */
  employer: optional(Schema.String),
  /** Where to ship the customer's orders (see `ShippingAddress`). */
  shipping: optional(ShippingAddress),
  /** Key/value data the merchant attached (see `Metadata`). */
  metadata: optional(Metadata),
  /** When the customer was created: an ISO 8601 date-time on the wire. Required. */
  created_at: Timestamp,
  /** Whether this is test data, made with a `fsk_test_…` key. Required. */
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

/**
 * The wire form of a customer: exactly the JSON Flex sends (the same type as `CustomerEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = CustomerEncoded

const json = parser(Customer, "Customer")

/**
 * Checks that a value is a customer in its wire form and returns it (unknown fields dropped);
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

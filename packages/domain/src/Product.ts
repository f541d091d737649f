/**
 * A product (`fprod_…`): what a price sells, with its HSA/FSA eligibility.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ProductId } from "./Ids.js"
import { openEnum, optional } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"
import { Metadata } from "./Metadata.js"
import { Timestamp } from "./Timestamps.js"

/**
 * HSA/FSA eligibility of a product or price. The docs name the categories but print only
 * `not_eligible`; Flex adds categories over time, so an unknown one passes through as a string
 * instead of failing the whole response it is nested in.
 *
 * @category schemas
 * @since 0.1.0
 */
export const HsaFsaEligibility = openEnum(
  "not_eligible",
  "auto_substantiation",
  "private_label",
  "letter_of_medical_necessity",
  "prescription",
  "vision",
  "service"
).annotations({ identifier: "HsaFsaEligibility" })

/**
 * @category models
 * @since 0.1.0
 */
export type HsaFsaEligibility = typeof HsaFsaEligibility.Type

/**
 * @category schemas
 * @since 0.1.0
 */
export const Product = Schema.Struct({
  /** The ID: `fprod_` and a ULID. Required. */
  product_id: ProductId,
  /** The product's name. Required. */
  name: Schema.String,
  /** A description of the product. */
  description: optional(Schema.String),
  /** Whether the product can be sold. Required. */
  active: Schema.Boolean,
  /** The HSA/FSA eligibility category (see {@link HsaFsaEligibility}); `not_eligible` for a new product. Required. */
  hsa_fsa_eligibility: HsaFsaEligibility,
  /** The kind of visit an eligibility letter needs: an enum in the docs, free-form here (example `cbtSleep`). */
  visit_type: optional(Schema.String),
  /** The product's UPC, used to look up its eligibility. */
  upc_code: optional(Schema.String),
  /** The product's GTIN, used to look up its eligibility. */
  gtin: optional(Schema.String),
  /** A reference product's GTIN, used to look up the eligibility of a similar product. */
  reference_gtin: optional(Schema.String),
  /** Why the product has its eligibility. Not documented by Flex beyond its name and type. */
  eligibility_rationale: optional(Schema.String),
  /** The product's web page. */
  url: optional(Schema.String),
  /** How the product is described in eligibility documents (newest docs). Not documented by Flex beyond its name and type. */
  document_description: optional(Schema.String),
  /** How the product is described on receipts (newest docs). Not documented by Flex beyond its name and type. */
  receipt_description: optional(Schema.String),
  /** The merchant's own reference for the product (newest docs). */
  client_reference_id: optional(Schema.String),
  /** Key/value data the merchant attached (see `Metadata`). */
  metadata: optional(Metadata),
  /** When the product was created: an ISO 8601 date-time. Required. */
  created_at: Timestamp,
  /** Whether this is test data, made with a `fsk_test_…` key. Required. */
  test_mode: Schema.Boolean
}).annotations({ identifier: "Product" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Product extends Schema.Schema.Type<typeof Product> {}

/**
 * @category models
 * @since 0.1.0
 */
export interface ProductEncoded extends Schema.Schema.Encoded<typeof Product> {}

/**
 * The wire form of a product: exactly the JSON Flex sends (the same type as `ProductEncoded`).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = ProductEncoded

const json = parser(Product, "Product")

/**
 * Checks that a value is a product in its wire form and returns it (unknown fields dropped);
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

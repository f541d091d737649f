/**
 * A product (`fprod_…`): what a price sells, with its HSA/FSA eligibility.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ProductId } from "./Ids.js"
import { openEnum, optional } from "./internal/schema.js"
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
  product_id: ProductId,
  name: Schema.String,
  description: optional(Schema.String),
  active: Schema.Boolean,
  hsa_fsa_eligibility: HsaFsaEligibility,
  /** Free-form in the docs (example `cbtSleep`). */
  visit_type: optional(Schema.String),
  upc_code: optional(Schema.String),
  gtin: optional(Schema.String),
  reference_gtin: optional(Schema.String),
  eligibility_rationale: optional(Schema.String),
  url: optional(Schema.String),
  document_description: optional(Schema.String),
  receipt_description: optional(Schema.String),
  client_reference_id: optional(Schema.String),
  metadata: optional(Metadata),
  created_at: Timestamp,
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

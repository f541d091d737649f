/**
 * The error body Flex sends with a failed request: `{"error": {"code": "…", "message": "…"}}`.
 *
 * Flex publishes no catalogue of codes, so `code` is a plain string; both fields are optional because
 * a proxy or an older endpoint may send less.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { optional } from "./internal/schema.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const ErrorBody = Schema.Struct({
  /** What went wrong. */
  error: Schema.Struct({
    /** An error category, as Stripe sends it. Not documented by Flex. */
    type: optional(Schema.String),
    /** A short code, e.g. `invalid_request` (the docs' only example); Flex publishes no catalogue. */
    code: optional(Schema.String),
    /** A human-readable message, e.g. `Missing required parameter: price`. */
    message: optional(Schema.String)
  })
}).annotations({ identifier: "ErrorBody" })

/**
 * @category models
 * @since 0.1.0
 */
export interface ErrorBody extends Schema.Schema.Type<typeof ErrorBody> {}

/**
 * Codes the sandbox sends and clients branch on; Flex may send others.
 *
 * @category codes
 * @since 0.1.0
 */
export const codes = {
  resourceMissing: "resource_missing",
  paymentIntentUnexpectedState: "payment_intent_unexpected_state",
  invalidRequest: "invalid_request",
  rateLimit: "rate_limit",
  authentication: "authentication_required",
  idempotencyError: "idempotency_error"
} as const

/**
 * The call log: one entry per request to the public API, in arrival order, for assertions such as
 * "how many cancel calls reached this intent, and which of them were answered". Admin requests are
 * not logged, and neither is any credential.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * One request: when it arrived, what it asked for, what the client got (`status` is null when no
 * response was sent: a reset, a hang, a dropped reply) and the fault injected, if any (see
 * `FaultProfile.Fault` for the names).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Call = Schema.Struct({
  /** Arrival time, ISO 8601. */
  at: Schema.String,
  method: Schema.String,
  /** The request target: path and query string. */
  path: Schema.String,
  status: Schema.NullOr(Schema.Int),
  idempotency_key: Schema.NullOr(Schema.String),
  fault: Schema.NullOr(Schema.String)
}).annotations({ identifier: "Call" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Call extends Schema.Schema.Type<typeof Call> {}

/**
 * The body of `GET /_sandbox/calls`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const CallsEnvelope = Schema.Struct({ calls: Schema.Array(Call) }).annotations({ identifier: "CallsEnvelope" })

/**
 * @category models
 * @since 0.1.0
 */
export interface CallsEnvelope extends Schema.Schema.Type<typeof CallsEnvelope> {}

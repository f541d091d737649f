/**
 * The subscription status state machine, as data.
 *
 * The statuses are documented in full (the status filter of List Subscriptions). Flex documents that a
 * subscription starts `incomplete` and becomes `active`, or `trialing` with a trial, after its first
 * payment; the other transitions follow Stripe's subscription lifecycle, which Flex mirrors.
 *
 * @since 0.1.0
 */
import type * as Schema from "effect/Schema"
import { statusEnum } from "./internal/schema.js"
import * as StateMachine from "./internal/stateMachine.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const Status = statusEnum("subscription status", [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "canceled",
  "unpaid",
  "paused"
])

/**
 * @category models
 * @since 0.1.0
 */
export type Status = Schema.Schema.Type<typeof Status>

const machine = StateMachine.make<Status>({
  // The first payment decides: it succeeds (active, or trialing with a trial) or the window expires.
  incomplete: ["active", "trialing", "incomplete_expired", "canceled"],
  incomplete_expired: [],
  trialing: ["active", "past_due", "paused", "canceled", "unpaid"],
  active: ["past_due", "unpaid", "paused", "canceled"],
  past_due: ["active", "unpaid", "canceled"],
  unpaid: ["active", "canceled"],
  paused: ["active", "canceled"],
  canceled: []
})

/**
 * @category state machine
 * @since 0.1.0
 */
export const statuses: ReadonlyArray<Status> = machine.statuses

/**
 * @category state machine
 * @since 0.1.0
 */
export const transitions: { readonly [K in Status]: ReadonlyArray<Status> } = machine.transitions

/**
 * @category state machine
 * @since 0.1.0
 */
export const canTransition: (from: Status, to: Status) => boolean = machine.canTransition

/**
 * True for `canceled` and `incomplete_expired`.
 *
 * @category state machine
 * @since 0.1.0
 */
export const isTerminal: (status: Status) => boolean = machine.isTerminal

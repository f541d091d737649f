/**
 * The invoice status state machine, as data.
 *
 * Flex's docs show only `draft` (the first value) and an endpoint to mark an invoice uncollectible, so
 * the statuses and transitions follow Stripe's invoice lifecycle, which Flex mirrors: a draft is
 * finalized to `open`; an open invoice is paid, voided or marked uncollectible; an uncollectible one
 * can still be paid or voided.
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
export const Status = statusEnum("invoice status", ["draft", "open", "paid", "uncollectible", "void"])

/**
 * @category models
 * @since 0.1.0
 */
export type Status = Schema.Schema.Type<typeof Status>

const machine = StateMachine.make<Status>({
  draft: ["open", "paid", "void"],
  open: ["paid", "uncollectible", "void"],
  uncollectible: ["paid", "void"],
  paid: [],
  void: []
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
 * True for `paid` and `void`.
 *
 * @category state machine
 * @since 0.1.0
 */
export const isTerminal: (status: Status) => boolean = machine.isTerminal

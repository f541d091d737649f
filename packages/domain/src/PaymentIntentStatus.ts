/**
 * The payment-intent status state machine, as data.
 *
 * Flex documents neither the full status list nor the transitions: its docs only ever show
 * `canceled`, the first value of an alphabetical enum, exactly as Stripe's docs do. Flex mirrors
 * Stripe's PaymentIntent field for field, so the statuses and transitions here follow Stripe's
 * documented lifecycle, and so does {@link cancelability}: an intent can be canceled while it waits for
 * a payment method, a confirmation, an action or a capture; a `processing` intent may become
 * cancelable again, so it is a "try later"; a `succeeded` one needs a refund instead.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Schema from "effect/Schema"
import { statusEnum } from "./internal/schema.js"
import * as StateMachine from "./internal/stateMachine.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const Status = statusEnum("payment intent status", [
  "requires_payment_method",
  "requires_confirmation",
  "requires_action",
  "processing",
  "requires_capture",
  "succeeded",
  "canceled"
])

/**
 * @category models
 * @since 0.1.0
 */
export type Status = Schema.Schema.Type<typeof Status>

const machine = StateMachine.make<Status>({
  // Attaching a payment method leads to confirmation; confirming may need an action (3-D Secure), may
  // go straight to processing, or may authorize a manual-capture intent.
  requires_payment_method: [
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "succeeded",
    "canceled"
  ],
  requires_confirmation: [
    "requires_payment_method",
    "requires_action",
    "processing",
    "requires_capture",
    "succeeded",
    "canceled"
  ],
  requires_action: ["requires_payment_method", "processing", "requires_capture", "succeeded", "canceled"],
  // A failed payment returns the intent to requires_payment_method.
  processing: ["requires_payment_method", "requires_capture", "succeeded", "canceled"],
  // Capture succeeds it; cancel (or an expired authorization) cancels it and releases the hold.
  requires_capture: ["processing", "succeeded", "canceled"],
  succeeded: [],
  canceled: []
})

/**
 * Every status, in the order of the lifecycle.
 *
 * @category state machine
 * @since 0.1.0
 */
export const statuses: ReadonlyArray<Status> = machine.statuses

/**
 * The transition table: for each status, the statuses it may move to next.
 *
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
 * True for `succeeded` and `canceled`: nothing happens to the intent after them.
 *
 * @category state machine
 * @since 0.1.0
 */
export const isTerminal: (status: Status) => boolean = machine.isTerminal

/**
 * What a cancel request would do to an intent in a given status.
 *
 * @category models
 * @since 0.1.0
 */
export type Cancelability = Data.TaggedEnum<{
  /** Cancel it: the status moves to `canceled` and any authorized amount is released. */
  Cancelable: {}
  /** Nothing to do: it is already canceled. */
  AlreadyCanceled: {}
  /** A cancel cannot succeed now; `retryLater` says whether waiting could change that. */
  NotCancelable: { readonly reason: string; readonly retryLater: boolean }
}>

/**
 * Constructors and matchers for {@link Cancelability}.
 *
 * @category models
 * @since 0.1.0
 */
export const Cancelability = Data.taggedEnum<Cancelability>()

const cancelabilityTable: { readonly [K in Status]: Cancelability } = {
  requires_payment_method: Cancelability.Cancelable(),
  requires_confirmation: Cancelability.Cancelable(),
  requires_action: Cancelability.Cancelable(),
  requires_capture: Cancelability.Cancelable(),
  processing: Cancelability.NotCancelable({
    reason: "the payment is processing; try again once it settles",
    retryLater: true
  }),
  succeeded: Cancelability.NotCancelable({
    reason: "the payment succeeded; refund it instead",
    retryLater: false
  }),
  canceled: Cancelability.AlreadyCanceled()
}

/**
 * Whether an intent in this status can be canceled, is already canceled, or cannot be (and why).
 *
 * @category state machine
 * @since 0.1.0
 */
export const cancelability = (status: Status): Cancelability => cancelabilityTable[status]

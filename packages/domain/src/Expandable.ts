/**
 * Expandable references: a field that holds either the ID of another object or the object itself.
 *
 * Flex returns `customer`, `invoice`, `payment_method`, `invoice.payment_intent`, `invoice.subscription`,
 * `subscription.latest_invoice`, `subscription_item.price` and `price.product` as an ID string by default
 * and as the full object when expanded (older docs show one form, newer docs the other). The helpers
 * here give code one way to read either.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * Either the ID or the expanded object.
 *
 * @category models
 * @since 0.1.0
 */
export type Expandable<Id extends string, A> = Id | A

/**
 * A schema for an expandable reference. The ID is tried first: it is the common, cheap form.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Expandable = <Id extends Schema.Schema.Any, A extends Schema.Schema.Any>(id: Id, object: A) =>
  Schema.Union(id, object)

/**
 * The ID of a reference in either form, given the name of the object's ID field.
 *
 * @example
 * ```ts
 * import { Expandable } from "@flex/domain"
 * declare const intent: import("@flex/domain").PaymentIntent.PaymentIntent
 * if (intent.customer) Expandable.id(intent.customer, "customer_id") // CustomerId either way
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const id = <Id extends string, Key extends string>(ref: Id | { readonly [K in Key]: Id }, key: Key): Id =>
  typeof ref === "string" ? ref : ref[key]

/**
 * The expanded object, if the reference was expanded.
 *
 * @category getters
 * @since 0.1.0
 */
export const expanded = <Id extends string, A extends object>(ref: Id | A): Option.Option<A> =>
  typeof ref === "string" ? Option.none() : Option.some(ref)

/**
 * True when the reference holds the whole object.
 *
 * @category guards
 * @since 0.1.0
 */
export const isExpanded = <Id extends string, A extends object>(ref: Id | A): ref is A => typeof ref !== "string"

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
export const id = <Ref extends string | { readonly [K in Key]: string }, Key extends string>(
  ref: Ref,
  key: Key
): IdOf<Ref, Key> => (typeof ref === "string" ? ref : ref[key as keyof typeof ref]) as IdOf<Ref, Key>

/**
 * The ID type of a reference: the ID itself, or the type of the expanded object's ID field.
 *
 * @category models
 * @since 0.1.0
 */
export type IdOf<Ref, Key extends string> = Ref extends string
  ? Ref
  : Ref extends { readonly [K in Key]: infer Id }
    ? Id
    : never

/**
 * The expanded object, if the reference was expanded (none for an ID, `null` or `undefined`).
 *
 * @category getters
 * @since 0.1.0
 */
export const expanded = <Ref>(ref: Ref): Option.Option<Exclude<Ref, string | null | undefined>> =>
  typeof ref === "object" && ref !== null ? Option.some(ref as Exclude<Ref, string | null | undefined>) : Option.none()

/**
 * True when the reference holds the whole object; it narrows the reference to the object's type. It
 * takes an optional field as it is (`null` and `undefined` are not expanded), so no separate null
 * check is needed.
 *
 * @example
 * ```ts
 * import { Expandable } from "@flex/domain"
 * declare const intent: import("@flex/domain").PaymentIntent.PaymentIntent
 *
 * if (Expandable.isExpanded(intent.invoice)) {
 *   console.log(intent.invoice.amount_due) // intent.invoice is an Invoice here
 * }
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isExpanded = <Ref>(ref: Ref): ref is Exclude<Ref, string | null | undefined> =>
  typeof ref === "object" && ref !== null

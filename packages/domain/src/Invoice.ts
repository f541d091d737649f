/**
 * An invoice (`fin_…`). Each billing period of a subscription generates one; its payment is a
 * payment intent, which is why `invoice.payment_intent` and `payment_intent.invoice` refer to each other.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Customer } from "./Customer.js"
import { Expandable } from "./Expandable.js"
import { ChargeId, CustomerId, InvoiceId, PaymentIntentId, SubscriptionId } from "./Ids.js"
import { Status } from "./InvoiceStatus.js"
import { openEnum, optional } from "./internal/schema.js"
import { Metadata } from "./Metadata.js"
import { Amount } from "./Money.js"
import { PaymentIntent, type PaymentIntentEncoded } from "./PaymentIntent.js"
import { Subscription, type SubscriptionEncoded } from "./Subscription.js"
import { Timestamp } from "./Timestamps.js"

/**
 * @category schemas
 * @since 0.1.0
 */
export const CollectionMethod = openEnum("charge_automatically", "send_invoice").annotations({
  identifier: "CollectionMethod"
})

const fields = {
  invoice_id: InvoiceId,
  total: Amount,
  amount_due: Amount,
  amount_paid: Amount,
  charge: optional(ChargeId),
  customer: optional(Expandable(CustomerId, Customer)),
  period_end: optional(Timestamp),
  period_start: optional(Timestamp),
  status: Status,
  collection_method: CollectionMethod,
  test_mode: Schema.Boolean,
  metadata: optional(Metadata),
  created_at: optional(Timestamp)
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Invoice extends Schema.Struct.Type<typeof fields> {
  readonly payment_intent?: PaymentIntentId | PaymentIntent | null | undefined
  readonly subscription?: SubscriptionId | Subscription | null | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface InvoiceEncoded extends Schema.Struct.Encoded<typeof fields> {
  readonly payment_intent?: string | PaymentIntentEncoded | null | undefined
  readonly subscription?: string | SubscriptionEncoded | null | undefined
}

/**
 * @category schemas
 * @since 0.1.0
 */
export const Invoice: Schema.Schema<Invoice, InvoiceEncoded> = Schema.Struct({
  ...fields,
  payment_intent: optional(
    Expandable(
      PaymentIntentId,
      Schema.suspend((): Schema.Schema<PaymentIntent, PaymentIntentEncoded> => PaymentIntent)
    )
  ),
  subscription: optional(
    Expandable(
      SubscriptionId,
      Schema.suspend((): Schema.Schema<Subscription, SubscriptionEncoded> => Subscription)
    )
  )
}).annotations({ identifier: "Invoice" })

/**
 * A subscription (`fsub_…`) to one or more prices, billed through invoices.
 *
 * Only `subscription_id`, `created_at` and `items` are certainly required; every other field is
 * optional, as the consumer variant of the endpoint omits several of them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Customer } from "./Customer.js"
import { Expandable } from "./Expandable.js"
import { CustomerId, InvoiceId, SubscriptionId } from "./Ids.js"
import { Invoice, type InvoiceEncoded } from "./Invoice.js"
import { openEnum, optional } from "./internal/schema.js"
import { Metadata } from "./Metadata.js"
import { SubscriptionItem } from "./SubscriptionItem.js"
import { Status } from "./SubscriptionStatus.js"
import { Timestamp } from "./Timestamps.js"

/**
 * The secrets a browser needs to confirm a subscription's first setup or payment. They are secrets:
 * decoded into `Redacted` so that logging a subscription never prints them.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ClientSecret = Schema.Struct({
  setup_secret: optional(Schema.Redacted(Schema.String)),
  payment_secret: optional(Schema.Redacted(Schema.String))
}).annotations({ identifier: "SubscriptionClientSecret" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const ProrationBehavior = openEnum("always_invoice", "create_prorations", "none").annotations({
  identifier: "ProrationBehavior"
})

const fields = {
  subscription_id: SubscriptionId,
  created_at: Timestamp,
  items: Schema.Array(SubscriptionItem),
  customer: optional(Expandable(CustomerId, Customer)),
  status: optional(Status),
  cancel_at_period_end: optional(Schema.Boolean),
  current_period_end: optional(Timestamp),
  current_period_start: optional(Timestamp),
  metadata: optional(Metadata),
  test_mode: optional(Schema.Boolean),
  client_secret: optional(ClientSecret),
  proration_behavior: optional(ProrationBehavior),
  trial_start: optional(Timestamp),
  trial_end: optional(Timestamp),
  cancel_at: optional(Timestamp),
  default_payment_method: optional(Schema.String),
  /** Only on the consumer variant of the endpoint. */
  partner: optional(Schema.String)
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Subscription extends Schema.Struct.Type<typeof fields> {
  readonly latest_invoice?: InvoiceId | Invoice | null | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface SubscriptionEncoded extends Schema.Struct.Encoded<typeof fields> {
  readonly latest_invoice?: string | InvoiceEncoded | null | undefined
}

/**
 * @category schemas
 * @since 0.1.0
 */
export const Subscription: Schema.Schema<Subscription, SubscriptionEncoded> = Schema.Struct({
  ...fields,
  latest_invoice: optional(
    Expandable(
      InvoiceId,
      Schema.suspend((): Schema.Schema<Invoice, InvoiceEncoded> => Invoice)
    )
  )
}).annotations({ identifier: "Subscription" })

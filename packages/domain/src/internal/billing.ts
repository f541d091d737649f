/**
 * The payment intent, invoice and subscription schemas, which refer to one another (an intent's
 * `invoice`, an invoice's `payment_intent` and `subscription`, a subscription's `latest_invoice`). They
 * live in this one module so that no import cycle runs between the entity modules: `PaymentIntent`,
 * `Invoice` and `Subscription` re-export from here, and only the back-references inside this module are
 * suspended. The linter's `noImportCycles` rule keeps it that way.
 *
 * Field notes come from Flex's API reference (restated in `flex-api.md` of the project); where the docs
 * give only a field's name and type, the note says so.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Customer } from "../Customer.js"
import { Expandable } from "../Expandable.js"
import { ChargeId, CustomerId, InvoiceId, PaymentIntentId, PaymentMethodId, SubscriptionId } from "../Ids.js"
import { Status as InvoiceStatus } from "../InvoiceStatus.js"
import { Metadata } from "../Metadata.js"
import { Amount } from "../Money.js"
import { Status as PaymentIntentStatus } from "../PaymentIntentStatus.js"
import { PaymentMethod } from "../PaymentMethod.js"
import { SubscriptionItem } from "../SubscriptionItem.js"
import { Status as SubscriptionStatus } from "../SubscriptionStatus.js"
import { Timestamp } from "../Timestamps.js"
import { openEnum, optional, statusEnum } from "./schema.js"

// ---------------------------------------------------------------------------------------------------
// Payment intent parts
// ---------------------------------------------------------------------------------------------------

/**
 * How the funds are captured: `automatic` (the only value Flex's docs print) or `manual` (the amount is
 * held, then captured or released by a cancel; split-cart holds work this way). `automatic_async` is
 * Stripe's and not documented by Flex. Strict: a manual-capture intent holds an authorization that a
 * cancel releases, so a misread capture method would misreport money.
 *
 * @category schemas
 * @since 0.1.0
 */
export const CaptureMethod = statusEnum("capture method", ["automatic", "automatic_async", "manual"])

/**
 * @category models
 * @since 0.1.0
 */
export type CaptureMethod = typeof CaptureMethod.Type

/**
 * Which card of a split cart paid: the HSA/FSA card (`primary`, the only value Flex prints) or the
 * regular card for the rest (`secondary`, inferred). An unknown value passes through as a string.
 *
 * @category schemas
 * @since 0.1.0
 */
export const PaymentCardType = openEnum("primary", "secondary").annotations({ identifier: "PaymentCardType" })

/**
 * Where the funds go in a Connect-style transfer. The newest docs show it as `{}`, so both fields are
 * optional.
 *
 * @category schemas
 * @since 0.1.0
 */
export const TransferData = Schema.Struct({
  /** The account the funds are transferred to. Not documented by Flex beyond its name and type (a string). */
  destination: optional(Schema.String),
  /** The amount transferred, in cents. Not documented by Flex beyond its name and type (an integer). */
  amount: optional(Amount)
}).annotations({ identifier: "TransferData" })

/**
 * @category models
 * @since 0.1.0
 */
export interface TransferData extends Schema.Schema.Type<typeof TransferData> {}

/**
 * Why the last payment attempt failed (newest docs only). Flex documents the five fields as strings and
 * nothing more; the meanings noted are Stripe's, whose object this mirrors.
 *
 * @category schemas
 * @since 0.1.0
 */
export const LastPaymentError = Schema.Struct({
  /** The kind of error (in Stripe: `card_error`, `api_error`, …). Values not documented by Flex. */
  type: optional(Schema.String),
  /** A short error code. Values not documented by Flex. */
  code: optional(Schema.String),
  /** The card issuer's decline reason, when a card was declined. Values not documented by Flex. */
  decline_code: optional(Schema.String),
  /** A message that explains the failure. */
  message: optional(Schema.String),
  /** The payment method that failed (a string; Flex does not say whether an ID or an object). */
  payment_method: optional(Schema.String)
}).annotations({ identifier: "LastPaymentError" })

/**
 * @category models
 * @since 0.1.0
 */
export interface LastPaymentError extends Schema.Schema.Type<typeof LastPaymentError> {}

// ---------------------------------------------------------------------------------------------------
// Invoice and subscription parts
// ---------------------------------------------------------------------------------------------------

/**
 * How an invoice is collected: `charge_automatically` (the only value Flex prints) or `send_invoice`
 * (inferred from Stripe). An unknown value passes through as a string.
 *
 * @category schemas
 * @since 0.1.0
 */
export const CollectionMethod = openEnum("charge_automatically", "send_invoice").annotations({
  identifier: "CollectionMethod"
})

/**
 * The secrets a browser needs to confirm a subscription's first setup or payment. They are secrets:
 * decoded into `Redacted` so that logging a subscription never prints them (their wire form, see
 * `Subscription.Json`, is the plain string).
 *
 * @category schemas
 * @since 0.1.0
 */
export const ClientSecret = Schema.Struct({
  /** Confirms the setup of the subscription's payment method. Not documented by Flex beyond its name and type. */
  setup_secret: optional(Schema.Redacted(Schema.String)),
  /** Confirms the subscription's first payment. Not documented by Flex beyond its name and type. */
  payment_secret: optional(Schema.Redacted(Schema.String))
}).annotations({ identifier: "SubscriptionClientSecret" })

/**
 * What a change of items does to the current period's bill: `always_invoice` (the only value Flex
 * prints), `create_prorations` or `none` (inferred from Stripe). An unknown value passes through.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ProrationBehavior = openEnum("always_invoice", "create_prorations", "none").annotations({
  identifier: "ProrationBehavior"
})

// ---------------------------------------------------------------------------------------------------
// The three entities
// ---------------------------------------------------------------------------------------------------

const paymentIntentFields = {
  /** The ID: `fpi_` and a ULID. Required. */
  payment_intent_id: PaymentIntentId,
  /** The amount to collect, in cents (Flex sells in USD only and has no `currency` field). Required. */
  amount: Amount,
  /**
   * The authorized amount that can still be captured, in cents. Not documented by Flex beyond its name and type
   * (always present in the newest examples); as in Stripe, a cancel releases it, leaving 0.
   */
  amount_capturable: optional(Amount),
  /** The amount received, in cents. Not documented by Flex beyond its name and type. */
  amount_received: optional(Amount),
  /** The platform's fee, in cents (Stripe's meaning). Not documented by Flex beyond its name and type. */
  application_fee_amount: optional(Amount),
  /**
   * The customer: their ID (`fcus_…`), or the whole {@link Customer} when expanded (`expand_customer=true`,
   * or `expand=customer`). Older docs show it expanded, the newest an ID.
   */
  customer: optional(Expandable(CustomerId, Customer)),
  /** Where the funds go in a transfer (`{destination, amount}`); the newest docs show `{}`. */
  transfer_data: optional(TransferData),
  /**
   * Where the intent is in its lifecycle (see `PaymentIntentStatus`). Flex prints only `canceled`; the
   * other values follow Stripe's. An unknown value fails to decode, naming the field. Required.
   */
  status: PaymentIntentStatus,
  /** The ID of the latest charge. Never shown expanded in any version of the docs. */
  latest_charge: optional(ChargeId),
  /** When the intent was created: an ISO 8601 date-time on the wire. Required. */
  created_at: Timestamp,
  /** How the funds are captured (see {@link CaptureMethod}). Required. */
  capture_method: CaptureMethod,
  /**
   * A secret that lets a browser confirm the payment: `Redacted` when decoded, so logs never show it
   * (`Redacted.value` reads it); a plain string in the wire form.
   */
  client_secret: optional(Schema.Redacted(Schema.String)),
  /** Key/value data the merchant attached (see `Metadata`). */
  metadata: optional(Metadata),
  /**
   * The payment method: its ID, or the whole `PaymentMethod` when expanded (one older example shows it
   * expanded).
   */
  payment_method: optional(Expandable(PaymentMethodId, PaymentMethod)),
  /** Whether this is test data, made with a `fsk_test_…` key. Every Flex object carries it. Required. */
  test_mode: Schema.Boolean,
  /** Groups related transfers (Stripe's meaning). Not documented by Flex beyond its name and type. */
  transfer_group: optional(Schema.String),
  /** Which card of a split cart this intent charges (see {@link PaymentCardType}). Newest docs only. */
  payment_card_type: optional(PaymentCardType),
  /**
   * An amount in cents, by its name the fee for a Letter of Medical Necessity. Newest docs only; Flex
   * documents only the name and type.
   */
  letter_fee_amount: optional(Amount),
  /** A fee in cents. Newest docs only; Not documented by Flex beyond its name and type. */
  transaction_fee: optional(Amount),
  /** Why the last payment attempt failed (see {@link LastPaymentError}). Newest docs only. */
  last_payment_error: optional(LastPaymentError)
}

/**
 * A payment intent as decoded: branded IDs, `Amount`s, `DateTime.Utc` timestamps, a `Redacted` client
 * secret. Its wire form is {@link PaymentIntentEncoded}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntent extends Schema.Struct.Type<typeof paymentIntentFields> {
  /**
   * The invoice this intent pays, for subscription billing: its ID (`fin_…`), or the whole
   * {@link Invoice} when expanded (older docs show it expanded down to the product).
   */
  readonly invoice?: InvoiceId | Invoice | null | undefined
}

/**
 * A payment intent in its wire form: exactly the JSON Flex sends (snake_case, IDs and timestamps as
 * strings, amounts as numbers, the client secret in clear). The type to share between services.
 *
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntentEncoded extends Schema.Struct.Encoded<typeof paymentIntentFields> {
  /** The invoice this intent pays: its ID (`fin_…`) or the expanded invoice. */
  readonly invoice?: string | InvoiceEncoded | null | undefined
}

const invoiceFields = {
  /** The ID: `fin_` and a ULID. Required. */
  invoice_id: InvoiceId,
  /** The invoice's total, in cents. Required. */
  total: Amount,
  /** The amount still due, in cents. Required. */
  amount_due: Amount,
  /** The amount paid so far, in cents. Required. */
  amount_paid: Amount,
  /** The ID of the charge that paid it. Not documented by Flex beyond its name and type. */
  charge: optional(ChargeId),
  /** The customer: their ID (`fcus_…`) or the whole {@link Customer} when expanded. */
  customer: optional(Expandable(CustomerId, Customer)),
  /**
   * The end of the billing period. Flex does not say the format (a string); decoded as an ISO 8601
   * date-time, like every other Flex timestamp.
   */
  period_end: optional(Timestamp),
  /** The start of the billing period; format as for `period_end`. */
  period_start: optional(Timestamp),
  /** Where the invoice is in its lifecycle (see `InvoiceStatus`). Flex prints only `draft`. Required. */
  status: InvoiceStatus,
  /** How the invoice is collected (see {@link CollectionMethod}). Required. */
  collection_method: CollectionMethod,
  /** Whether this is test data, made with a `fsk_test_…` key. Required. */
  test_mode: Schema.Boolean,
  /** Key/value data the merchant attached (newest docs). */
  metadata: optional(Metadata),
  /** When the invoice was created: an ISO 8601 date-time (newest docs). */
  created_at: optional(Timestamp)
}

/**
 * An invoice as decoded. Its wire form is {@link InvoiceEncoded}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Invoice extends Schema.Struct.Type<typeof invoiceFields> {
  /**
   * The payment intent that pays the invoice: its ID (`fpi_…`) or the whole {@link PaymentIntent}
   * (expanded in older docs; inside an expanded intent the docs cut the recursion with `{}`).
   */
  readonly payment_intent?: PaymentIntentId | PaymentIntent | null | undefined
  /** The subscription that generated the invoice: its ID (`fsub_…`) or the whole {@link Subscription}. */
  readonly subscription?: SubscriptionId | Subscription | null | undefined
}

/**
 * An invoice in its wire form, exactly as Flex sends it.
 *
 * @category models
 * @since 0.1.0
 */
export interface InvoiceEncoded extends Schema.Struct.Encoded<typeof invoiceFields> {
  /** The payment intent that pays the invoice: its ID (`fpi_…`) or the expanded intent. */
  readonly payment_intent?: string | PaymentIntentEncoded | null | undefined
  /** The subscription that generated the invoice: its ID (`fsub_…`) or the expanded subscription. */
  readonly subscription?: string | SubscriptionEncoded | null | undefined
}

const subscriptionFields = {
  /** The ID: `fsub_` and a ULID. Required. */
  subscription_id: SubscriptionId,
  /** When the subscription was created: an ISO 8601 date-time. Required. */
  created_at: Timestamp,
  /** What is subscribed to: one item per price (see `SubscriptionItem`). Required. */
  items: Schema.Array(SubscriptionItem),
  /** The customer: their ID (`fcus_…`, `expand_customer=true` expands it) or the whole {@link Customer}. */
  customer: optional(Expandable(CustomerId, Customer)),
  /**
   * Where the subscription is in its lifecycle (see `SubscriptionStatus`; the one status list Flex
   * documents in full). Created `incomplete`, then `active` or `trialing` after the first payment.
   */
  status: optional(SubscriptionStatus),
  /** Whether the subscription ends at the end of the current period rather than at once. */
  cancel_at_period_end: optional(Schema.Boolean),
  /** The end of the current billing period. Flex does not say the format; decoded as ISO 8601. */
  current_period_end: optional(Timestamp),
  /** The start of the current billing period. Flex does not say the format; decoded as ISO 8601. */
  current_period_start: optional(Timestamp),
  /** Key/value data the merchant attached. Absent on the consumer endpoint. */
  metadata: optional(Metadata),
  /** Whether this is test data, made with a `fsk_test_…` key. */
  test_mode: optional(Schema.Boolean),
  /** The secrets a browser needs to confirm setup and payment (see {@link ClientSecret}). */
  client_secret: optional(ClientSecret),
  /** How changes are billed in the current period (see {@link ProrationBehavior}). */
  proration_behavior: optional(ProrationBehavior),
  /** When the trial started. Flex documents a string without a format; decoded as ISO 8601. */
  trial_start: optional(Timestamp),
  /** When the trial ends. Flex documents a string without a format; decoded as ISO 8601. */
  trial_end: optional(Timestamp),
  /** When the subscription is scheduled to end: an ISO 8601 date-time. */
  cancel_at: optional(Timestamp),
  /** The payment method billed by default (a string). Not documented by Flex beyond its name and type. */
  default_payment_method: optional(Schema.String),
  /** Only on the consumer variant of the endpoint (a string). Not documented by Flex beyond its name and type. */
  partner: optional(Schema.String)
}

/**
 * A subscription as decoded. Its wire form is {@link SubscriptionEncoded}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Subscription extends Schema.Struct.Type<typeof subscriptionFields> {
  /**
   * The latest invoice: its ID (`fin_…`) or the whole {@link Invoice} (expanded in older docs). Absent on
   * the consumer endpoint.
   */
  readonly latest_invoice?: InvoiceId | Invoice | null | undefined
}

/**
 * A subscription in its wire form, exactly as Flex sends it.
 *
 * @category models
 * @since 0.1.0
 */
export interface SubscriptionEncoded extends Schema.Struct.Encoded<typeof subscriptionFields> {
  /** The latest invoice: its ID (`fin_…`) or the expanded invoice. */
  readonly latest_invoice?: string | InvoiceEncoded | null | undefined
}

// The back-references are suspended so that each schema can name one defined further down this module.

/**
 * @category schemas
 * @since 0.1.0
 */
export const PaymentIntent: Schema.Schema<PaymentIntent, PaymentIntentEncoded> = Schema.Struct({
  ...paymentIntentFields,
  /** See {@link PaymentIntent.invoice}. */
  invoice: optional(
    Expandable(
      InvoiceId,
      Schema.suspend((): Schema.Schema<Invoice, InvoiceEncoded> => Invoice)
    )
  )
}).annotations({ identifier: "PaymentIntent" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const Invoice: Schema.Schema<Invoice, InvoiceEncoded> = Schema.Struct({
  ...invoiceFields,
  /** See {@link Invoice.payment_intent}. */
  payment_intent: optional(
    Expandable(
      PaymentIntentId,
      Schema.suspend((): Schema.Schema<PaymentIntent, PaymentIntentEncoded> => PaymentIntent)
    )
  ),
  /** See {@link Invoice.subscription}. */
  subscription: optional(
    Expandable(
      SubscriptionId,
      Schema.suspend((): Schema.Schema<Subscription, SubscriptionEncoded> => Subscription)
    )
  )
}).annotations({ identifier: "Invoice" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const Subscription: Schema.Schema<Subscription, SubscriptionEncoded> = Schema.Struct({
  ...subscriptionFields,
  /** See {@link Subscription.latest_invoice}. */
  latest_invoice: optional(
    Expandable(
      InvoiceId,
      Schema.suspend((): Schema.Schema<Invoice, InvoiceEncoded> => Invoice)
    )
  )
}).annotations({ identifier: "Subscription" })

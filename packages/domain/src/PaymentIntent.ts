/**
 * A payment intent (`fpi_…`): one attempt to collect a payment, from authorization to capture or
 * cancellation. Its status lifecycle is in {@link PaymentIntentStatus}.
 *
 * Also the response envelopes of the payment-intent endpoints: `{"payment_intent": …}` for get and
 * cancel, `{"payment_intents": […]}` for list (Flex sends no `has_more`: a page shorter than the
 * limit is the last one).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Customer } from "./Customer.js"
import { Expandable } from "./Expandable.js"
import { ChargeId, CustomerId, InvoiceId, PaymentIntentId, PaymentMethodId } from "./Ids.js"
import { Invoice, type InvoiceEncoded } from "./Invoice.js"
import { openEnum, optional, statusEnum } from "./internal/schema.js"
import { Metadata } from "./Metadata.js"
import { Amount } from "./Money.js"
import { Status } from "./PaymentIntentStatus.js"
import { PaymentMethod } from "./PaymentMethod.js"
import { Timestamp } from "./Timestamps.js"

/**
 * How the funds are captured. Strict: a manual-capture intent holds an authorization that a cancel
 * releases, so a misread capture method would misreport money.
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
 * Which card of a split cart paid: the HSA/FSA card (`primary`) or the regular card for the rest.
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
  destination: optional(Schema.String),
  amount: optional(Amount)
}).annotations({ identifier: "TransferData" })

/**
 * @category models
 * @since 0.1.0
 */
export interface TransferData extends Schema.Schema.Type<typeof TransferData> {}

/**
 * Why the last payment attempt failed (newest docs only).
 *
 * @category schemas
 * @since 0.1.0
 */
export const LastPaymentError = Schema.Struct({
  type: optional(Schema.String),
  code: optional(Schema.String),
  decline_code: optional(Schema.String),
  message: optional(Schema.String),
  payment_method: optional(Schema.String)
}).annotations({ identifier: "LastPaymentError" })

/**
 * @category models
 * @since 0.1.0
 */
export interface LastPaymentError extends Schema.Schema.Type<typeof LastPaymentError> {}

const fields = {
  payment_intent_id: PaymentIntentId,
  amount: Amount,
  amount_capturable: optional(Amount),
  amount_received: optional(Amount),
  application_fee_amount: optional(Amount),
  customer: optional(Expandable(CustomerId, Customer)),
  transfer_data: optional(TransferData),
  status: Status,
  latest_charge: optional(ChargeId),
  created_at: Timestamp,
  capture_method: CaptureMethod,
  /** A secret that lets a browser confirm the payment: `Redacted`, so logs never show it. */
  client_secret: optional(Schema.Redacted(Schema.String)),
  metadata: optional(Metadata),
  payment_method: optional(Expandable(PaymentMethodId, PaymentMethod)),
  test_mode: Schema.Boolean,
  transfer_group: optional(Schema.String),
  payment_card_type: optional(PaymentCardType),
  letter_fee_amount: optional(Amount),
  transaction_fee: optional(Amount),
  last_payment_error: optional(LastPaymentError)
}

/**
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntent extends Schema.Struct.Type<typeof fields> {
  readonly invoice?: InvoiceId | Invoice | null | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntentEncoded extends Schema.Struct.Encoded<typeof fields> {
  readonly invoice?: string | InvoiceEncoded | null | undefined
}

/**
 * @category schemas
 * @since 0.1.0
 */
export const PaymentIntent: Schema.Schema<PaymentIntent, PaymentIntentEncoded> = Schema.Struct({
  ...fields,
  invoice: optional(
    Expandable(
      InvoiceId,
      Schema.suspend((): Schema.Schema<Invoice, InvoiceEncoded> => Invoice)
    )
  )
}).annotations({ identifier: "PaymentIntent" })

/**
 * The body of `GET /v1/payment_intents/{id}` and `POST /v1/payment_intents/{id}/cancel`.
 *
 * @category envelopes
 * @since 0.1.0
 */
export const Envelope = Schema.Struct({ payment_intent: PaymentIntent }).annotations({
  identifier: "PaymentIntentEnvelope"
})

/**
 * @category envelopes
 * @since 0.1.0
 */
export interface Envelope extends Schema.Schema.Type<typeof Envelope> {}

/**
 * The body of `GET /v1/payment_intents`.
 *
 * @category envelopes
 * @since 0.1.0
 */
export const ListEnvelope = Schema.Struct({ payment_intents: Schema.Array(PaymentIntent) }).annotations({
  identifier: "PaymentIntentListEnvelope"
})

/**
 * @category envelopes
 * @since 0.1.0
 */
export interface ListEnvelope extends Schema.Schema.Type<typeof ListEnvelope> {}

/**
 * The customer's ID, whether `customer` came as an ID or expanded.
 *
 * @category getters
 * @since 0.1.0
 */
export const customerId = (intent: PaymentIntent): CustomerId | undefined =>
  intent.customer == null
    ? undefined
    : typeof intent.customer === "string"
      ? intent.customer
      : intent.customer.customer_id

/**
 * The invoice's ID, whether `invoice` came as an ID or expanded.
 *
 * @category getters
 * @since 0.1.0
 */
export const invoiceId = (intent: PaymentIntent): InvoiceId | undefined =>
  intent.invoice == null ? undefined : typeof intent.invoice === "string" ? intent.invoice : intent.invoice.invoice_id

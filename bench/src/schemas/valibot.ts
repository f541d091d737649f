/**
 * The cancel response's full shape in valibot 1, equivalent to `@flex/domain`'s `PaymentIntent.Envelope`
 * (see `zod.ts` for what "equivalent" covers). Recursion goes through `v.lazy`.
 */
import * as v from "valibot"
import {
  captureMethods,
  invoiceStatuses,
  parseTimestamp,
  patterns,
  paymentIntentStatuses,
  secret,
  subscriptionStatuses
} from "./shared.js"

const id = (pattern: RegExp) => v.pipe(v.string(), v.regex(pattern))
const opaqueId = v.pipe(v.string(), v.minLength(1))
const Amount = v.pipe(v.number(), v.safeInteger(), v.minValue(0))
const Count = Amount
const Int = v.pipe(v.number(), v.safeInteger())
const Timestamp = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const date = parseTimestamp(dataset.value)
    if (date === undefined) {
      addIssue({ message: "Expected an RFC 3339 timestamp" })
      return NEVER
    }
    return date
  })
)
const Secret = v.pipe(v.string(), v.transform(secret))
const Metadata = v.record(v.string(), v.string())
const str = v.string()
const bool = v.boolean()

const ShippingAddress = v.object({
  shipping_address_id: v.nullish(opaqueId),
  line1: v.nullish(str),
  line2: v.nullish(str),
  city: v.nullish(str),
  state: v.nullish(str),
  postal_code: v.nullish(str),
  country: v.nullish(str)
})

const Customer = v.object({
  customer_id: id(patterns.customer),
  first_name: str,
  last_name: str,
  email: str,
  phone: v.nullish(str),
  employer: v.nullish(str),
  shipping: v.nullish(ShippingAddress),
  metadata: v.nullish(Metadata),
  created_at: Timestamp,
  test_mode: bool
})

const Card = v.object({
  brand: v.nullish(str),
  country: v.nullish(str),
  exp_month: v.nullish(Int),
  exp_year: v.nullish(Int),
  fingerprint: v.nullish(str),
  funding: v.nullish(str),
  last4: v.nullish(str)
})

const PaymentMethod = v.object({
  payment_method_id: opaqueId,
  card: v.nullish(Card),
  customer: v.nullish(str),
  metadata: v.nullish(Metadata),
  off_session: v.nullish(bool),
  created_at: v.nullish(Timestamp),
  test_mode: v.nullish(bool)
})

const Product = v.object({
  product_id: id(patterns.product),
  name: str,
  description: v.nullish(str),
  active: bool,
  hsa_fsa_eligibility: str,
  visit_type: v.nullish(str),
  upc_code: v.nullish(str),
  gtin: v.nullish(str),
  reference_gtin: v.nullish(str),
  eligibility_rationale: v.nullish(str),
  url: v.nullish(str),
  document_description: v.nullish(str),
  receipt_description: v.nullish(str),
  client_reference_id: v.nullish(str),
  metadata: v.nullish(Metadata),
  created_at: Timestamp,
  test_mode: bool
})

const Price = v.object({
  price_id: id(patterns.price),
  description: v.nullish(str),
  trial_period_days: v.nullish(Count),
  unit_amount: Amount,
  recurring: v.nullish(
    v.object({ interval: v.nullish(str), interval_count: v.nullish(Count), trial_period_days: v.nullish(Count) })
  ),
  active: bool,
  product: v.union([id(patterns.product), Product]),
  created_at: Timestamp,
  type: str,
  metadata: v.nullish(Metadata),
  hsa_fsa_eligibility: v.nullish(str),
  test_mode: bool
})

const SubscriptionItem = v.object({
  subscription_item_id: opaqueId,
  price: v.nullish(v.union([id(patterns.price), Price])),
  quantity: v.nullish(Count),
  created_at: v.nullish(Timestamp),
  updated_at: v.nullish(Timestamp),
  test_mode: v.nullish(bool)
})

const TransferData = v.object({ destination: v.nullish(str), amount: v.nullish(Amount) })

const LastPaymentError = v.object({
  type: v.nullish(str),
  code: v.nullish(str),
  decline_code: v.nullish(str),
  message: v.nullish(str),
  payment_method: v.nullish(str)
})

const CustomerRef = v.nullish(v.union([id(patterns.customer), Customer]))

const Subscription: v.GenericSchema<unknown, unknown> = v.object({
  subscription_id: id(patterns.subscription),
  created_at: Timestamp,
  items: v.array(SubscriptionItem),
  customer: CustomerRef,
  status: v.nullish(v.picklist(subscriptionStatuses)),
  cancel_at_period_end: v.nullish(bool),
  current_period_end: v.nullish(Timestamp),
  current_period_start: v.nullish(Timestamp),
  metadata: v.nullish(Metadata),
  test_mode: v.nullish(bool),
  client_secret: v.nullish(v.object({ setup_secret: v.nullish(Secret), payment_secret: v.nullish(Secret) })),
  proration_behavior: v.nullish(str),
  trial_start: v.nullish(Timestamp),
  trial_end: v.nullish(Timestamp),
  cancel_at: v.nullish(Timestamp),
  default_payment_method: v.nullish(str),
  partner: v.nullish(str),
  latest_invoice: v.nullish(v.union([id(patterns.invoice), v.lazy(() => Invoice)]))
})

const Invoice: v.GenericSchema<unknown, unknown> = v.object({
  invoice_id: id(patterns.invoice),
  total: Amount,
  amount_due: Amount,
  amount_paid: Amount,
  charge: v.nullish(opaqueId),
  customer: CustomerRef,
  period_end: v.nullish(Timestamp),
  period_start: v.nullish(Timestamp),
  status: v.picklist(invoiceStatuses),
  collection_method: str,
  test_mode: bool,
  metadata: v.nullish(Metadata),
  created_at: v.nullish(Timestamp),
  payment_intent: v.nullish(v.union([id(patterns.paymentIntent), v.lazy(() => PaymentIntent)])),
  subscription: v.nullish(v.union([id(patterns.subscription), Subscription]))
})

const PaymentIntent: v.GenericSchema<unknown, unknown> = v.object({
  payment_intent_id: id(patterns.paymentIntent),
  amount: Amount,
  amount_capturable: v.nullish(Amount),
  amount_received: v.nullish(Amount),
  application_fee_amount: v.nullish(Amount),
  customer: CustomerRef,
  transfer_data: v.nullish(TransferData),
  status: v.picklist(paymentIntentStatuses),
  latest_charge: v.nullish(opaqueId),
  created_at: Timestamp,
  capture_method: v.picklist(captureMethods),
  client_secret: v.nullish(Secret),
  metadata: v.nullish(Metadata),
  payment_method: v.nullish(v.union([opaqueId, PaymentMethod])),
  test_mode: bool,
  transfer_group: v.nullish(str),
  payment_card_type: v.nullish(str),
  letter_fee_amount: v.nullish(Amount),
  transaction_fee: v.nullish(Amount),
  last_payment_error: v.nullish(LastPaymentError),
  invoice: v.nullish(v.union([id(patterns.invoice), Invoice]))
})

export const Envelope = v.object({ payment_intent: PaymentIntent })

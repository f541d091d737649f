/**
 * The cancel response's full shape in zod 4, equivalent to `@flex/domain`'s `PaymentIntent.Envelope`:
 * IDs are pattern-checked strings, amounts non-negative safe integers, timestamps strict RFC 3339 parsed
 * to `Date`, closed status enums checked, open enums plain strings, secrets wrapped, every expandable
 * field a union of the ID and the object, optional fields absent or null, unknown keys stripped.
 */
import { z } from "zod"
import {
  captureMethods,
  invoiceStatuses,
  parseTimestamp,
  patterns,
  paymentIntentStatuses,
  secret,
  subscriptionStatuses
} from "./shared.js"

const id = (pattern: RegExp) => z.string().regex(pattern)
const opaqueId = z.string().min(1)
const Amount = z.int().min(0)
const Count = z.int().min(0)
const Timestamp = z.string().transform((input, ctx) => {
  const date = parseTimestamp(input)
  if (date === undefined) {
    ctx.issues.push({ code: "custom", message: "Expected an RFC 3339 timestamp", input })
    return z.NEVER
  }
  return date
})
const Secret = z.string().transform(secret)
const Metadata = z.record(z.string(), z.string())

const ShippingAddress = z.object({
  shipping_address_id: opaqueId.nullish(),
  line1: z.string().nullish(),
  line2: z.string().nullish(),
  city: z.string().nullish(),
  state: z.string().nullish(),
  postal_code: z.string().nullish(),
  country: z.string().nullish()
})

const Customer = z.object({
  customer_id: id(patterns.customer),
  first_name: z.string(),
  last_name: z.string(),
  email: z.string(),
  phone: z.string().nullish(),
  employer: z.string().nullish(),
  shipping: ShippingAddress.nullish(),
  metadata: Metadata.nullish(),
  created_at: Timestamp,
  test_mode: z.boolean()
})

const Card = z.object({
  brand: z.string().nullish(),
  country: z.string().nullish(),
  exp_month: z.int().nullish(),
  exp_year: z.int().nullish(),
  fingerprint: z.string().nullish(),
  funding: z.string().nullish(),
  last4: z.string().nullish()
})

const PaymentMethod = z.object({
  payment_method_id: opaqueId,
  card: Card.nullish(),
  customer: z.string().nullish(),
  metadata: Metadata.nullish(),
  off_session: z.boolean().nullish(),
  created_at: Timestamp.nullish(),
  test_mode: z.boolean().nullish()
})

const Product = z.object({
  product_id: id(patterns.product),
  name: z.string(),
  description: z.string().nullish(),
  active: z.boolean(),
  hsa_fsa_eligibility: z.string(),
  visit_type: z.string().nullish(),
  upc_code: z.string().nullish(),
  gtin: z.string().nullish(),
  reference_gtin: z.string().nullish(),
  eligibility_rationale: z.string().nullish(),
  url: z.string().nullish(),
  document_description: z.string().nullish(),
  receipt_description: z.string().nullish(),
  client_reference_id: z.string().nullish(),
  metadata: Metadata.nullish(),
  created_at: Timestamp,
  test_mode: z.boolean()
})

const Price = z.object({
  price_id: id(patterns.price),
  description: z.string().nullish(),
  trial_period_days: Count.nullish(),
  unit_amount: Amount,
  recurring: z
    .object({ interval: z.string().nullish(), interval_count: Count.nullish(), trial_period_days: Count.nullish() })
    .nullish(),
  active: z.boolean(),
  product: z.union([id(patterns.product), Product]),
  created_at: Timestamp,
  type: z.string(),
  metadata: Metadata.nullish(),
  hsa_fsa_eligibility: z.string().nullish(),
  test_mode: z.boolean()
})

const SubscriptionItem = z.object({
  subscription_item_id: opaqueId,
  price: z.union([id(patterns.price), Price]).nullish(),
  quantity: Count.nullish(),
  created_at: Timestamp.nullish(),
  updated_at: Timestamp.nullish(),
  test_mode: z.boolean().nullish()
})

const TransferData = z.object({ destination: z.string().nullish(), amount: Amount.nullish() })

const LastPaymentError = z.object({
  type: z.string().nullish(),
  code: z.string().nullish(),
  decline_code: z.string().nullish(),
  message: z.string().nullish(),
  payment_method: z.string().nullish()
})

// The three that refer to each other use getters, zod 4's way to write recursive objects.
const Subscription = z.object({
  subscription_id: id(patterns.subscription),
  created_at: Timestamp,
  items: z.array(SubscriptionItem),
  customer: z.union([id(patterns.customer), Customer]).nullish(),
  status: z.enum(subscriptionStatuses).nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  current_period_end: Timestamp.nullish(),
  current_period_start: Timestamp.nullish(),
  metadata: Metadata.nullish(),
  test_mode: z.boolean().nullish(),
  client_secret: z.object({ setup_secret: Secret.nullish(), payment_secret: Secret.nullish() }).nullish(),
  proration_behavior: z.string().nullish(),
  trial_start: Timestamp.nullish(),
  trial_end: Timestamp.nullish(),
  cancel_at: Timestamp.nullish(),
  default_payment_method: z.string().nullish(),
  partner: z.string().nullish(),
  get latest_invoice() {
    return z.union([id(patterns.invoice), Invoice]).nullish()
  }
})

const Invoice = z.object({
  invoice_id: id(patterns.invoice),
  total: Amount,
  amount_due: Amount,
  amount_paid: Amount,
  charge: opaqueId.nullish(),
  customer: z.union([id(patterns.customer), Customer]).nullish(),
  period_end: Timestamp.nullish(),
  period_start: Timestamp.nullish(),
  status: z.enum(invoiceStatuses),
  collection_method: z.string(),
  test_mode: z.boolean(),
  metadata: Metadata.nullish(),
  created_at: Timestamp.nullish(),
  get payment_intent() {
    return z.union([id(patterns.paymentIntent), PaymentIntent]).nullish()
  },
  get subscription() {
    return z.union([id(patterns.subscription), Subscription]).nullish()
  }
})

const PaymentIntent = z.object({
  payment_intent_id: id(patterns.paymentIntent),
  amount: Amount,
  amount_capturable: Amount.nullish(),
  amount_received: Amount.nullish(),
  application_fee_amount: Amount.nullish(),
  customer: z.union([id(patterns.customer), Customer]).nullish(),
  transfer_data: TransferData.nullish(),
  status: z.enum(paymentIntentStatuses),
  latest_charge: opaqueId.nullish(),
  created_at: Timestamp,
  capture_method: z.enum(captureMethods),
  client_secret: Secret.nullish(),
  metadata: Metadata.nullish(),
  payment_method: z.union([opaqueId, PaymentMethod]).nullish(),
  test_mode: z.boolean(),
  transfer_group: z.string().nullish(),
  payment_card_type: z.string().nullish(),
  letter_fee_amount: Amount.nullish(),
  transaction_fee: Amount.nullish(),
  last_payment_error: LastPaymentError.nullish(),
  get invoice() {
    return z.union([id(patterns.invoice), Invoice]).nullish()
  }
})

export const Envelope = z.object({ payment_intent: PaymentIntent })

import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Redacted, Schema } from "effect"
import * as DecodeFailure from "../src/DecodeFailure.js"
import * as Expandable from "../src/Expandable.js"
import * as Metadata from "../src/Metadata.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import { load } from "./fixtures.js"

const decode = Schema.decodeUnknownEither(PaymentIntent.Envelope)
const encode = Schema.encodeSync(PaymentIntent.Envelope)

const failure = (input: unknown) => {
  const result = decode(input)
  if (Either.isRight(result)) throw new Error("expected the decode to fail")
  return DecodeFailure.fromParseError(result.left)
}

describe("PaymentIntent", () => {
  it("decodes the seed-shaped cancel response and encodes it back to the same JSON", () => {
    const json = load("cancel-response")
    const envelope = Either.getOrThrow(decode(json))
    const intent = envelope.payment_intent
    assert.strictEqual(intent.payment_intent_id, "fpi_01J9M9S346Q3D25VT4F5V37E3S")
    assert.strictEqual(intent.status, "canceled")
    assert.strictEqual(intent.amount, 4999)
    assert.isTrue(DateTime.isDateTime(intent.created_at))
    assert.strictEqual(DateTime.formatIso(intent.created_at), "2024-10-01T12:00:05.000Z")
    // Nested to the bottom: intent -> invoice -> subscription -> item -> price -> product.
    const invoice = intent.invoice
    assert.isTrue(invoice !== undefined && invoice !== null && Expandable.isExpanded(invoice))
    if (typeof invoice !== "object" || invoice === null) return
    const subscription = invoice.subscription
    if (typeof subscription !== "object" || subscription === null) throw new Error("subscription not expanded")
    const price = subscription.items[0]?.price
    if (typeof price !== "object" || price === null) throw new Error("price not expanded")
    assert.strictEqual(Expandable.id(price.product, "product_id"), "fprod_01J9NPZX45HY43KWJRP1XPA7Z3")
    assert.strictEqual(subscription.status, "active")
    assert.deepStrictEqual(encode(envelope), json)
  })

  it("decodes the newest docs' shape: references as IDs, new fields, nulls, unknown fields", () => {
    const json = load("gen-c-response")
    const intent = Either.getOrThrow(decode(json)).payment_intent
    assert.strictEqual<unknown>(intent.customer, "fcus_01jb2c3d4e5f6g7h8j9k0m1n2q")
    assert.strictEqual(PaymentIntent.customerId(intent), "fcus_01jb2c3d4e5f6g7h8j9k0m1n2q")
    assert.strictEqual(PaymentIntent.invoiceId(intent), "fin_01JB2C3D4E5F6G7H8J9K0M1N2R")
    assert.strictEqual(intent.amount_received, null)
    assert.strictEqual(intent.transaction_fee, 348)
    assert.strictEqual(intent.payment_card_type, "primary")
    assert.strictEqual(intent.last_payment_error?.decline_code, "insufficient_funds")
    assert.deepStrictEqual(intent.transfer_data, {})
    assert.isFalse("new_field_flex_added" in intent)
    // Unknown fields are dropped; everything else encodes back as it came.
    const { livemode_region: _a, new_field_flex_added: _b, ...known } = json.payment_intent
    assert.deepStrictEqual(encode(Either.getOrThrow(decode(json))), { payment_intent: known })
  })

  it("accepts every optional field omitted", () => {
    const minimal = {
      payment_intent: {
        payment_intent_id: "fpi_01J9M9S346Q3D25VT4F5V37E3S",
        amount: 100,
        status: "requires_payment_method",
        created_at: "2024-01-01T00:00:00Z",
        capture_method: "automatic",
        test_mode: true
      }
    }
    assert.deepStrictEqual(encode(Either.getOrThrow(decode(minimal))), minimal)
  })

  it("accepts every optional field null, in the intent and every nested object", () => {
    const json = load("cancel-response")
    const pi = json.payment_intent
    for (const key of ["amount_capturable", "customer", "invoice", "client_secret", "metadata", "transfer_group"]) {
      pi[key] = null
    }
    const intent = Either.getOrThrow(decode(json)).payment_intent
    assert.strictEqual(intent.customer, null)
    assert.strictEqual(PaymentIntent.customerId(intent), undefined)
    const nested = load("cancel-response")
    nested.payment_intent.customer.shipping.line2 = null
    nested.payment_intent.invoice.subscription.latest_invoice = null
    nested.payment_intent.invoice.subscription.items[0].price.recurring = null
    assert.isTrue(Either.isRight(decode(nested)))
  })

  it("accepts metadata values of any JSON type, in the intent and nested objects, and encodes them back", () => {
    const json = load("cancel-response")
    json.payment_intent.metadata = { order: "A-1", items: 3, gift: true, note: null, tags: ["x"], nested: { a: 1 } }
    json.payment_intent.customer.metadata = { tier: 2 }
    const intent = Either.getOrThrow(decode(json)).payment_intent
    assert.deepStrictEqual(intent.metadata, json.payment_intent.metadata)
    assert.strictEqual(Metadata.string(intent.metadata, "order"), "A-1")
    assert.strictEqual(Metadata.string(intent.metadata, "items"), undefined)
    assert.deepStrictEqual(
      encode(Either.getOrThrow(decode(json))).payment_intent.metadata,
      json.payment_intent.metadata
    )
    // Still an object: a metadata that is a string or an array is refused, naming the field.
    const bad = load("cancel-response")
    bad.payment_intent.metadata = "order=A-1"
    assert.match(failure(bad).path, /metadata/)
  })

  it("accepts IDs in lower case and keeps them as they came", () => {
    const json = load("cancel-response")
    json.payment_intent.payment_intent_id = "fpi_01j9m9s346q3d25vt4f5v37e3s"
    const intent = Either.getOrThrow(decode(json)).payment_intent
    assert.strictEqual(intent.payment_intent_id, "fpi_01j9m9s346q3d25vt4f5v37e3s")
  })

  it("fails the seed's literal example at its first placeholder, naming the path", () => {
    const result = failure(load("seed-literal"))
    assert.strictEqual(result.path, "payment_intent.payment_intent_id")
    assert.include(result.message, '"<string>"')
  })

  it("fails an unknown status with the path and the value, never coercing it", () => {
    const json = load("cancel-response")
    json.payment_intent.status = "requires_reauthorization"
    const result = failure(json)
    assert.strictEqual(result.path, "payment_intent.status")
    assert.include(result.message, "requires_reauthorization")
    const nested = load("cancel-response")
    nested.payment_intent.invoice.status = "pending"
    const deep = failure(nested)
    assert.strictEqual(deep.path, "payment_intent.invoice.status")
    assert.include(deep.message, '"pending"')
  })

  it("rejects fractional, negative and non-numeric amounts", () => {
    for (const bad of [49.99, -1, "4999", 1e300, Number.NaN]) {
      const json = load("cancel-response")
      json.payment_intent.amount = bad
      const result = failure(json)
      assert.strictEqual(result.path, "payment_intent.amount", `amount ${bad}`)
    }
  })

  it("rejects a missing required field", () => {
    const json = load("cancel-response")
    delete json.payment_intent.test_mode
    assert.strictEqual(failure(json).path, "payment_intent.test_mode")
  })

  it("passes unknown values of descriptive enums through instead of failing the response", () => {
    const json = load("cancel-response")
    json.payment_intent.invoice.subscription.items[0].price.product.hsa_fsa_eligibility = "dental"
    const intent = Either.getOrThrow(decode(json)).payment_intent
    assert.deepStrictEqual(encode({ payment_intent: intent }), json)
  })

  it("keeps client secrets redacted: logging or serialising an intent never shows them", () => {
    const json = load("cancel-response")
    const intent = Either.getOrThrow(decode(json)).payment_intent
    const secret = json.payment_intent.client_secret
    assert.isTrue(intent.client_secret != null && Redacted.isRedacted(intent.client_secret))
    assert.notInclude(JSON.stringify(intent), secret)
    assert.notInclude(String(intent.client_secret), secret)
    assert.strictEqual(Redacted.value(intent.client_secret!), secret)
  })

  it("decodes the list envelope", () => {
    const one = load("cancel-response").payment_intent
    const two = load("gen-c-response").payment_intent
    const list = Schema.decodeUnknownSync(PaymentIntent.ListEnvelope)({ payment_intents: [one, two] })
    assert.deepStrictEqual(
      list.payment_intents.map((pi) => pi.payment_intent_id),
      [one.payment_intent_id, two.payment_intent_id]
    )
    const empty = Schema.decodeUnknownSync(PaymentIntent.ListEnvelope)({ payment_intents: [] })
    assert.strictEqual(empty.payment_intents.length, 0)
  })
})

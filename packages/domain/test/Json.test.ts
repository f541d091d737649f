import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Redacted, Schema } from "effect"
import * as Customer from "../src/Customer.js"
import * as Invoice from "../src/Invoice.js"
import * as Json from "../src/Json.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import * as Price from "../src/Price.js"
import * as Subscription from "../src/Subscription.js"
import { load } from "./fixtures.js"

const intentJson = () => load("cancel-response").payment_intent

describe("Json: the wire form without Effect", () => {
  it("parse returns the wire form: the JSON Flex sent, secrets in clear, timestamps as strings", () => {
    const wire = intentJson()
    const parsed = PaymentIntent.parse(wire)
    assert.deepStrictEqual(parsed, wire)
    assert.strictEqual(parsed.client_secret, "fpi_01J9M9S346Q3D25VT4F5V37E3S_secret_cXV4cXV1eA")
    assert.strictEqual(parsed.created_at, wire.created_at)
    // JSON all the way: another service gets the same object back.
    assert.deepStrictEqual(JSON.parse(JSON.stringify(parsed)), wire)
  })

  it("parse drops unknown fields at every depth and does not change its input", () => {
    const wire = intentJson()
    wire.added_by_flex_later = { nested: true }
    wire.invoice.subscription.also_new = 1
    const parsed = PaymentIntent.parse(wire)
    assert.isFalse("added_by_flex_later" in parsed)
    const invoice = parsed.invoice as Invoice.Json
    assert.isFalse("also_new" in (invoice.subscription as Subscription.Json))
    assert.deepStrictEqual(wire.added_by_flex_later, { nested: true })
  })

  it("parse throws a plain Error naming the nested field; safeParse returns it", () => {
    const wire = intentJson()
    wire.invoice.status = "pending"
    let thrown: unknown
    try {
      PaymentIntent.parse(wire)
    } catch (error) {
      thrown = error
    }
    assert.instanceOf(thrown, Json.ParseFailure)
    assert.instanceOf(thrown, Error)
    const failure = thrown as Json.ParseFailure
    assert.strictEqual(failure.name, "ParseFailure")
    assert.strictEqual(failure.entity, "PaymentIntent")
    assert.strictEqual(failure.path, "invoice.status")
    assert.match(failure.reason, /Expected a known invoice status .*got "pending"/)
    assert.match(failure.message, /^Invalid PaymentIntent at invoice\.status: Expected a known invoice status/)

    const result = PaymentIntent.safeParse(wire)
    assert.isFalse(result.success)
    if (!result.success) assert.strictEqual(result.error.path, "invoice.status")
  })

  it("rejects what the decoder rejects: a fraction of a cent, a wrong prefix, an impossible date", () => {
    const cases: ReadonlyArray<readonly [string, (wire: any) => void]> = [
      ["amount", (wire) => (wire.amount = 49.99)],
      ["payment_intent_id", (wire) => (wire.payment_intent_id = "pi_123")],
      ["created_at", (wire) => (wire.created_at = "2024-02-30T00:00:00Z")]
    ]
    for (const [path, mutate] of cases) {
      const wire = intentJson()
      mutate(wire)
      const result = PaymentIntent.safeParse(wire)
      assert.isFalse(result.success, path)
      if (!result.success) assert.strictEqual(result.error.path, path)
    }
    const notAnObject = PaymentIntent.safeParse("fpi_01J9M9S346Q3D25VT4F5V37E3S")
    assert.isFalse(notAnObject.success)
    if (!notAnObject.success) assert.strictEqual(notAnObject.error.path, "")
  })

  it("every entity has the pair, and a nested part parses on its own", () => {
    const wire = intentJson()
    assert.deepStrictEqual(Invoice.parse(wire.invoice), wire.invoice)
    assert.deepStrictEqual(Subscription.parse(wire.invoice.subscription), wire.invoice.subscription)
    assert.deepStrictEqual(Customer.parse(wire.customer), wire.customer)
    const price = wire.invoice.subscription.items[0].price
    assert.deepStrictEqual(Price.parse(price), price)
    const result = Customer.safeParse({ ...wire.customer, customer_id: "fcus_short" })
    assert.isFalse(result.success)
    if (!result.success) assert.strictEqual(result.error.entity, "Customer")
  })

  it("Json.parser works for envelopes, named by the schema's identifier", () => {
    const envelope = Json.parser(PaymentIntent.Envelope)
    const body = load("cancel-response")
    assert.deepStrictEqual(envelope.parse(body), body)
    const bad = envelope.safeParse({ payment_intent: { ...body.payment_intent, status: "lost" } })
    assert.isFalse(bad.success)
    if (!bad.success) {
      assert.strictEqual(bad.error.entity, "PaymentIntentEnvelope")
      assert.strictEqual(bad.error.path, "payment_intent.status")
    }
  })

  it("converts both ways with the schema: decode the wire form, encode it back", () => {
    const wire = PaymentIntent.parse(intentJson())
    const intent = Schema.decodeUnknownSync(PaymentIntent.PaymentIntent)(wire)
    assert.strictEqual(Redacted.value(intent.client_secret!), wire.client_secret)
    assert.deepStrictEqual(Schema.encodeSync(PaymentIntent.PaymentIntent)(intent), wire)
  })

  it("types: the wire form is plain JSON types", () => {
    expectTypeOf(PaymentIntent.parse).returns.toEqualTypeOf<PaymentIntent.PaymentIntentEncoded>()
    expectTypeOf<PaymentIntent.Json["created_at"]>().toEqualTypeOf<string>()
    expectTypeOf<PaymentIntent.Json["payment_intent_id"]>().toEqualTypeOf<string>()
    expectTypeOf<PaymentIntent.Json["amount"]>().toEqualTypeOf<number>()
    expectTypeOf<PaymentIntent.Json["client_secret"]>().toEqualTypeOf<string | null | undefined>()
    expectTypeOf<Invoice.Json>().toEqualTypeOf<Invoice.InvoiceEncoded>()
    expectTypeOf(PaymentIntent.safeParse).returns.toEqualTypeOf<Json.SafeParseResult<PaymentIntent.Json>>()
  })
})

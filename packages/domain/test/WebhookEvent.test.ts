import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { DecodeFailure, WebhookEvent } from "../src/index.js"
import { load } from "./fixtures.js"

const decode = Schema.decodeUnknownEither(WebhookEvent.WebhookEvent)
const encode = Schema.encodeSync(WebhookEvent.WebhookEvent)

const intent = () => load("cancel-response").payment_intent
const customer = () => intent().customer
const invoice = () => intent().invoice
const subscription = () => intent().invoice.subscription

const refund = () => ({
  refund_id: "re_01J9QKFBF5KZNWJ47TAN9ZT24M",
  payment_intent_id: "fpi_01J9M9S346Q3D25VT4F5V37E3S",
  amount: 1200,
  created_at: "2024-10-02T08:00:00Z",
  status: "failed",
  test_mode: true,
  reason: "duplicate",
  reference_id: "ARN-123",
  reference_type: "acquirer_reference_number",
  reference_status: "available",
  undocumented_field: { kept: true }
})

const checkoutSession = () => ({
  checkout_session_id: "fcs_01HW5KTQQAAQ66WV19MFW4DTT4",
  status: "complete",
  mode: "payment",
  amount_total: 4999,
  payment_intent: "fpi_01J9M9S346Q3D25VT4F5V37E3S",
  payment_intents: ["fpi_01J9M9S346Q3D25VT4F5V37E3S"],
  customer: "fcus_01HACM7FZ1084XB1GB6053VM0D",
  created_at: 1727784005,
  expires_at: 1727870405,
  redirect_url: "https://checkout.withflex.com/pay/c/fcs_01HW5KTQQAAQ66WV19MFW4DTT4",
  captures: [{ capture_id: "cap_1", payment_intent: "fpi_01J9M9S346Q3D25VT4F5V37E3S" }]
})

const envelope = (event_type: string, object: unknown) => ({
  event_id: "evt_01J9QKFBF5KZNWJ47TAN9ZT24M",
  event_type,
  event_dt: 1727784005,
  object
})

// Every event name of flex-api.md §7, with the resource its object wraps.
const documented: ReadonlyArray<readonly [string, string, () => unknown]> = [
  ["charge.dispute.closed", "dispute", () => ({ dispute_id: "dp_1", amount: 100 })],
  ["charge.dispute.created", "dispute", () => ({ dispute_id: "dp_1", amount: 100 })],
  ["charge.dispute.funds_reinstated", "dispute", () => ({ dispute_id: "dp_1" })],
  ["charge.dispute.funds_withdrawn", "dispute", () => ({ dispute_id: "dp_1" })],
  ["charge.dispute.updated", "dispute", () => ({ dispute_id: "dp_1" })],
  ["charge.refund.updated", "refund", refund],
  ["charge.refunded", "charge", () => ({ charge_id: "ch_1", amount_refunded: 100 })],
  ["customer.created", "customer", customer],
  ["customer.deleted", "customer", customer],
  ["customer.updated", "customer", customer],
  ["customer.subscription.created", "subscription", subscription],
  ["customer.subscription.updated", "subscription", subscription],
  ["customer.subscription.deleted", "subscription", subscription],
  ["invoice.created", "invoice", invoice],
  ["invoice.payment_succeeded", "invoice", invoice],
  ["payment_intent.created", "payment_intent", intent],
  ["payment_intent.succeeded", "payment_intent", intent],
  ["refund.created", "refund", refund],
  ["refund.updated", "refund", refund],
  ["checkout.session.completed", "checkout_session", checkoutSession],
  ["checkout_session.completed", "checkout_session", checkoutSession]
]

const failure = (input: unknown) => {
  const result = decode(input)
  if (Either.isRight(result)) throw new Error(`decoded: ${JSON.stringify(input)}`)
  return DecodeFailure.fromParseError(result.left)
}

describe("WebhookEvent", () => {
  it("knows exactly the event types Flex documents, both checkout spellings among them", () => {
    assert.deepStrictEqual([...WebhookEvent.knownEventTypes].sort(), documented.map(([type]) => type).sort())
  })

  for (const [type, key, resource] of documented) {
    it(`${type}: decodes its object wrapped under "${key}", and encodes back wrapped`, () => {
      const wire = envelope(type, { [key]: resource() })
      const event = Either.getOrThrow(decode(wire))
      assert.strictEqual(event.event_type, type)
      assert.isTrue(WebhookEvent.isKnown(event))
      const object = (event.object as Record<string, unknown>)[key]
      assert.isObject(object)
      const encoded = encode(event) as any
      assert.deepStrictEqual(Object.keys(encoded.object), [key])
      assert.deepStrictEqual(Either.getOrThrow(decode(encoded)), event)
    })

    it(`${type}: also accepts the resource itself as the object`, () => {
      const bare = Either.getOrThrow(decode(envelope(type, resource())))
      const wrapped = Either.getOrThrow(decode(envelope(type, { [key]: resource() })))
      assert.deepStrictEqual(bare, wrapped)
    })
  }

  it("decodes the entities of the domain: amounts, branded IDs, DateTime timestamps, Redacted secrets", () => {
    const event = Either.getOrThrow(decode(envelope("payment_intent.succeeded", { payment_intent: intent() })))
    assert.strictEqual(event.event_type, "payment_intent.succeeded")
    if (!WebhookEvent.isKnown(event) || event.event_type !== "payment_intent.succeeded") return
    assert.strictEqual(event.object.payment_intent.amount, 4999)
    assert.strictEqual(event.object.payment_intent.created_at.epochMillis, Date.parse("2024-10-01T12:00:05Z"))
    const subscriptionEvent = Either.getOrThrow(
      decode(envelope("customer.subscription.created", { subscription: subscription() }))
    )
    assert.strictEqual(subscriptionEvent.event_type, "customer.subscription.created")
  })

  it("keeps the undocumented fields of open objects (refund, checkout session, dispute)", () => {
    const event = Either.getOrThrow(decode(envelope("refund.updated", { refund: refund() }))) as any
    assert.deepStrictEqual(event.object.refund.undocumented_field, { kept: true })
    assert.strictEqual(event.object.refund.status, "failed")
    const session = Either.getOrThrow(
      decode(envelope("checkout.session.completed", { checkout_session: checkoutSession() }))
    ) as any
    assert.deepStrictEqual(session.object.checkout_session.captures, checkoutSession().captures)
    const dispute = Either.getOrThrow(decode(envelope("charge.dispute.created", { dispute: { anything: [1] } }))) as any
    assert.deepStrictEqual(dispute.object.dispute, { anything: [1] })
  })

  it("an unknown event type is an UnknownEvent carrying its raw object, never an error", () => {
    for (const object of [{ payout: { id: "po_1", amount: 5 } }, [], "text", 42, null]) {
      const event = Either.getOrThrow(decode(envelope("payout.paid", object)))
      assert.isTrue(WebhookEvent.isUnknown(event))
      assert.isFalse(WebhookEvent.isKnown(event))
      assert.strictEqual(event.event_type, "payout.paid")
      assert.deepStrictEqual(event.object, object)
      assert.deepStrictEqual(encode(event), envelope("payout.paid", object))
    }
  })

  it("a known event type whose object is wrong fails, naming the field (it is not taken as unknown)", () => {
    const wire = envelope("payment_intent.succeeded", { payment_intent: { ...intent(), status: "paid_maybe" } })
    const { path, message } = failure(wire)
    assert.strictEqual(path, "object.payment_intent.status")
    assert.include(message, "paid_maybe")
    assert.strictEqual(
      failure(envelope("customer.created", { customer: { customer_id: "nope" } })).path.split(".")[0],
      "object"
    )
    assert.strictEqual(failure(envelope("refund.created", { refund: { amount: 1 } })).path, "object.refund.refund_id")
    // The resource itself as the object: the path names its field directly.
    assert.strictEqual(failure(envelope("refund.created", { amount: 1 })).path, "object.refund_id")
  })

  it("an envelope without its fields fails", () => {
    for (const key of ["event_id", "event_type", "event_dt"]) {
      const wire: Record<string, unknown> = envelope("payout.paid", {})
      delete wire[key]
      assert.strictEqual(failure(wire).path, key)
    }
    assert.strictEqual(failure({ ...envelope("payout.paid", {}), event_dt: 1.5 }).path, "event_dt")
    assert.strictEqual(failure({ ...envelope("payout.paid", {}), event_id: "" }).path, "event_id")
    for (const input of [null, [], "event", 1]) failure(input)
  })

  it("a switch on event_type narrows each known event once unknown ones are set aside", () => {
    const describeEvent = (event: WebhookEvent.WebhookEvent): string => {
      if (WebhookEvent.isUnknown(event)) return `unknown ${event.event_type}`
      switch (event.event_type) {
        case "payment_intent.created":
        case "payment_intent.succeeded":
          return `intent ${event.object.payment_intent.payment_intent_id}`
        case "checkout.session.completed":
        case "checkout_session.completed":
          return `session ${event.object.checkout_session.checkout_session_id}`
        case "customer.created":
        case "customer.updated":
        case "customer.deleted":
          return `customer ${event.object.customer.customer_id}`
        case "customer.subscription.created":
        case "customer.subscription.updated":
        case "customer.subscription.deleted":
          return `subscription ${event.object.subscription.subscription_id}`
        case "invoice.created":
        case "invoice.payment_succeeded":
          return `invoice ${event.object.invoice.invoice_id}`
        case "refund.created":
        case "refund.updated":
        case "charge.refund.updated":
          return `refund ${event.object.refund.refund_id}`
        case "charge.refunded":
          return `charge ${Object.keys(event.object.charge).length}`
        case "charge.dispute.closed":
        case "charge.dispute.created":
        case "charge.dispute.funds_reinstated":
        case "charge.dispute.funds_withdrawn":
        case "charge.dispute.updated":
          return `dispute ${Object.keys(event.object.dispute).length}`
        default: {
          // Exhaustive: every known type is handled above.
          const never: never = event
          return never
        }
      }
    }
    assert.strictEqual(
      describeEvent(
        Either.getOrThrow(decode(envelope("checkout_session.completed", { checkout_session: checkoutSession() })))
      ),
      "session fcs_01HW5KTQQAAQ66WV19MFW4DTT4"
    )
    assert.strictEqual(describeEvent(Either.getOrThrow(decode(envelope("x.y", {})))), "unknown x.y")
  })

  it("the wire form narrows the same way, with isKnown or isUnknown", () => {
    const amountOf = (event: WebhookEvent.Json): number | undefined => {
      if (!WebhookEvent.isKnown(event)) return undefined
      if (event.event_type === "payment_intent.succeeded") return event.object.payment_intent.amount
      return undefined
    }
    const typeOf = (event: WebhookEvent.Json): string => {
      if (WebhookEvent.isUnknown(event)) return `unknown ${event.event_type}`
      return event.event_type === "invoice.created" ? `invoice ${event.object.invoice.invoice_id}` : event.event_type
    }
    assert.strictEqual(amountOf(WebhookEvent.parse(envelope("payment_intent.succeeded", intent()))), 4999)
    assert.strictEqual(
      typeOf(WebhookEvent.parse(envelope("invoice.created", invoice()))),
      "invoice fin_01J9QKFBF5KZNWJ47TAN9ZT24M"
    )
    assert.strictEqual(typeOf(WebhookEvent.parse(envelope("x.y", 1))), "unknown x.y")
  })

  it("parse and safeParse give the wire form, or a ParseFailure naming the field", () => {
    const wire = WebhookEvent.parse(envelope("invoice.created", invoice()))
    assert.strictEqual(wire.event_type, "invoice.created")
    assert.deepStrictEqual(Object.keys(wire.object as object), ["invoice"])
    const result = WebhookEvent.safeParse(envelope("invoice.created", { invoice: { ...invoice(), total: -1 } }))
    assert.isFalse(result.success)
    if (!result.success) assert.strictEqual(result.error.path, "object.invoice.total")
  })
})

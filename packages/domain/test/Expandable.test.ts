import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Either, Option, Schema } from "effect"
import * as Expandable from "../src/Expandable.js"
import type * as Ids from "../src/Ids.js"
import type * as Invoice from "../src/Invoice.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import type * as Price from "../src/Price.js"
import type * as Product from "../src/Product.js"
import { load } from "./fixtures.js"

const decode = (json: unknown) => Either.getOrThrow(Schema.decodeUnknownEither(PaymentIntent.PaymentIntent)(json))

describe("Expandable", () => {
  it("isExpanded narrows an optional reference to the object, with no null check first", () => {
    const intent = decode(load("cancel-response").payment_intent)
    // This block is the README's example: it must compile (checked by `tsc`) and run.
    if (Expandable.isExpanded(intent.invoice)) {
      expectTypeOf(intent.invoice).toEqualTypeOf<Invoice.Invoice>()
      assert.strictEqual(intent.invoice.amount_due, 4999)
    } else {
      expectTypeOf(intent.invoice).toEqualTypeOf<Ids.InvoiceId | null | undefined>()
      assert.fail("the fixture's invoice is expanded")
    }
  })

  it("is false for an ID, null and undefined", () => {
    const json = load("cancel-response").payment_intent
    json.invoice = "fin_01J9NPZX45HY43KWJRP1XPA7Z0"
    assert.isFalse(Expandable.isExpanded(decode(json).invoice))
    json.invoice = null
    assert.isFalse(Expandable.isExpanded(decode(json).invoice))
    delete json.invoice
    assert.isFalse(Expandable.isExpanded(decode(json).invoice))
  })

  it("expanded gives the object's type; id reads either form", () => {
    const intent = decode(load("cancel-response").payment_intent)
    const customer = Expandable.expanded(intent.customer)
    expectTypeOf(customer).toEqualTypeOf<Option.Option<import("../src/Customer.js").Customer>>()
    assert.isTrue(Option.isSome(customer))
    assert.isTrue(Option.isNone(Expandable.expanded(null)))
    const productId = (price: Price.Price) => Expandable.id(price.product, "product_id")
    expectTypeOf(productId).returns.toEqualTypeOf<Ids.ProductId>()
    const invoice = intent.invoice as Invoice.Invoice
    const subscription = invoice.subscription
    if (!Expandable.isExpanded(subscription)) return assert.fail("the fixture's subscription is expanded")
    const price = subscription.items[0]?.price
    if (!Expandable.isExpanded(price)) return assert.fail("the fixture's price is expanded")
    expectTypeOf(price.product).toEqualTypeOf<Ids.ProductId | Product.Product>()
    assert.strictEqual(productId(price), "fprod_01J9NPZX45HY43KWJRP1XPA7Z3")
  })
})

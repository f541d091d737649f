import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, FastCheck, Schema } from "effect"
import * as Customer from "../src/Customer.js"
import * as Invoice from "../src/Invoice.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import * as Price from "../src/Price.js"
import * as Product from "../src/Product.js"
import * as Subscription from "../src/Subscription.js"

// decode ∘ encode = id, compared on the wire form: values hold DateTime and Redacted, whose equality
// is by value but whose wire form is the thing that has to survive the trip.
const roundTrips = <A, I>(name: string, schema: Schema.Schema<A, I>, numRuns = 100) =>
  it(`${name}: decode(encode(a)) encodes to the same wire form`, () => {
    const encode = Schema.encodeSync(schema)
    const decode = Schema.decodeUnknownSync(schema)
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(schema), (a) => {
        const wire = encode(a)
        const json = JSON.parse(JSON.stringify(wire))
        assert.deepStrictEqual(encode(decode(json)), json)
      }),
      { numRuns }
    )
  })

describe("Arbitrary round trips", () => {
  roundTrips("Customer", Customer.Customer)
  roundTrips("Product", Product.Product)
  roundTrips("Price", Price.Price)
  roundTrips("Subscription", Subscription.Subscription, 30)
  roundTrips("Invoice", Invoice.Invoice, 30)
  roundTrips("PaymentIntent", PaymentIntent.PaymentIntent, 30)
  roundTrips("PaymentIntent.Envelope", PaymentIntent.Envelope, 30)
})

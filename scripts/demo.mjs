// The demo until the worker exists: @flex/domain at work on a realistic cancel response.
import { readFileSync } from "node:fs"
import { DecodeFailure, Money, PaymentIntent, PaymentIntentStatus } from "@flex/domain"
import { Either, Schema } from "effect"

const json = JSON.parse(
  readFileSync(new URL("../packages/domain/test/fixtures/cancel-response.json", import.meta.url), "utf8")
)
const decode = Schema.decodeUnknownEither(PaymentIntent.Envelope)

const intent = Either.getOrThrow(decode(json)).payment_intent
console.log("Decoded a cancel response:")
console.log(
  `  ${intent.payment_intent_id}  ${intent.status}  ${Money.format(intent.amount)}  capture=${intent.capture_method}`
)
console.log(`  customer ${PaymentIntent.customerId(intent)}, invoice ${PaymentIntent.invoiceId(intent)}`)
console.log(`  client_secret prints as ${String(intent.client_secret)}`)

console.log("\nThe payment intent state machine:")
for (const status of PaymentIntentStatus.statuses) {
  const c = PaymentIntentStatus.cancelability(status)
  const verdict = c._tag === "NotCancelable" ? `not cancelable: ${c.reason}` : c._tag
  console.log(`  ${status.padEnd(24)} -> [${PaymentIntentStatus.transitions[status].join(", ")}]  (${verdict})`)
}

const walk = ["requires_payment_method", "requires_confirmation", "requires_capture", "canceled", "succeeded"]
console.log("\nWalking", walk.join(" -> "))
for (let i = 1; i < walk.length; i++) {
  const ok = PaymentIntentStatus.canTransition(walk[i - 1], walk[i])
  console.log(`  ${walk[i - 1]} -> ${walk[i]}: ${ok ? "allowed" : "refused"}`)
}

const bad = structuredClone(json)
bad.payment_intent.status = "requires_reauthorization"
const failure = decode(bad)
console.log("\nAn unknown status is a typed decode error, never coerced:")
console.log(`  ${DecodeFailure.format(DecodeFailure.fromParseError(failure.left))}`)

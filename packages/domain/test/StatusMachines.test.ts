import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import * as InvoiceStatus from "../src/InvoiceStatus.js"
import * as PaymentIntentStatus from "../src/PaymentIntentStatus.js"
import * as SubscriptionStatus from "../src/SubscriptionStatus.js"

const machines = [
  ["PaymentIntentStatus", PaymentIntentStatus],
  ["InvoiceStatus", InvoiceStatus],
  ["SubscriptionStatus", SubscriptionStatus]
] as const

describe("status state machines", () => {
  for (const [name, machine] of machines) {
    describe(name, () => {
      it("lists every status of the schema, and only those, in the table", () => {
        const statuses = machine.statuses as ReadonlyArray<string>
        const decode = Schema.decodeUnknownEither(machine.Status as Schema.Schema<string>)
        for (const status of statuses) assert.isTrue(Either.isRight(decode(status)), status)
        FastCheck.assert(
          FastCheck.property(Arbitrary.make(machine.Status as Schema.Schema<string>), (status) => {
            assert.include(statuses, status)
          })
        )
        for (const targets of Object.values(machine.transitions) as Array<ReadonlyArray<string>>) {
          for (const to of targets) assert.include(statuses, to)
        }
      })

      it("random walks only ever take listed transitions and stop at terminal statuses", () => {
        const statuses = machine.statuses as ReadonlyArray<string>
        const table = machine.transitions as Record<string, ReadonlyArray<string>>
        const canTransition = machine.canTransition as (from: string, to: string) => boolean
        const isTerminal = machine.isTerminal as (s: string) => boolean
        FastCheck.assert(
          FastCheck.property(
            FastCheck.constantFrom(...statuses),
            FastCheck.array(FastCheck.nat(), { maxLength: 30 }),
            (start, choices) => {
              let current = start
              for (const choice of choices) {
                const next = table[current]!
                if (next.length === 0) {
                  assert.isTrue(isTerminal(current))
                  for (const other of statuses) assert.isFalse(canTransition(current, other))
                  return
                }
                const to = next[choice % next.length]!
                assert.isTrue(canTransition(current, to), `${current} -> ${to}`)
                current = to
              }
            }
          )
        )
      })

      it("refuses every pair the table does not list", () => {
        const statuses = machine.statuses as ReadonlyArray<string>
        const table = machine.transitions as Record<string, ReadonlyArray<string>>
        const canTransition = machine.canTransition as (from: string, to: string) => boolean
        for (const from of statuses) {
          for (const to of statuses) {
            assert.strictEqual(canTransition(from, to), table[from]!.includes(to), `${from} -> ${to}`)
          }
        }
      })
    })
  }

  it("gives every payment intent status a cancelability", () => {
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(PaymentIntentStatus.Status), (status) => {
        const result = PaymentIntentStatus.cancelability(status)
        assert.include(["Cancelable", "AlreadyCanceled", "NotCancelable"], result._tag)
        // Cancelable exactly when the machine allows the move to canceled.
        assert.strictEqual(
          result._tag === "Cancelable",
          PaymentIntentStatus.canTransition(status, "canceled") && status !== "processing"
        )
      })
    )
  })

  it("explains why succeeded and processing intents cannot be canceled", () => {
    const succeeded = PaymentIntentStatus.cancelability("succeeded")
    assert.strictEqual(succeeded._tag, "NotCancelable")
    if (succeeded._tag === "NotCancelable") {
      assert.include(succeeded.reason, "refund")
      assert.isFalse(succeeded.retryLater)
    }
    const processing = PaymentIntentStatus.cancelability("processing")
    assert.strictEqual(processing._tag, "NotCancelable")
    if (processing._tag === "NotCancelable") assert.isTrue(processing.retryLater)
    assert.strictEqual(PaymentIntentStatus.cancelability("canceled")._tag, "AlreadyCanceled")
    assert.strictEqual(PaymentIntentStatus.cancelability("requires_capture")._tag, "Cancelable")
    assert.isTrue(PaymentIntentStatus.isTerminal("canceled"))
    assert.isFalse(PaymentIntentStatus.isTerminal("requires_capture"))
  })

  it("fails unknown statuses with the value in the message", () => {
    const result = Schema.decodeUnknownEither(SubscriptionStatus.Status)("expired")
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.include(result.left.message, '"expired"')
  })
})

import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect, Layer, Option, Stream } from "effect"
import * as Batch from "../src/Batch.js"
import { Store } from "../src/Store.js"
import { tempStore, workerLayer } from "./support/harness.js"

const inputs = (ids: ReadonlyArray<string>) =>
  Stream.fromIterable(ids.map((paymentIntentId, i) => ({ _tag: "Intent" as const, line: i + 1, paymentIntentId })))

describe("CancelWorkflow on the embedded engine", () => {
  it.scopedLive("ends each seeded intent in its outcome, one API call on the happy path", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 7 })
      const store = yield* tempStore
      const [capture, pending, canceled, succeeded] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 5000, capture_method: "manual" },
        { status: "requires_payment_method", amount: 1200 },
        { status: "canceled" },
        { status: "succeeded" }
      ])
      const missing = "fpi_01J9M9S346Q3D25VT4F5V37E3S"
      const ids = [capture!, pending!, canceled!, succeeded!].map((pi) => pi.payment_intent_id)
      const report = yield* Batch.run(inputs([...ids, missing]), { concurrency: 4, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer(sandbox, store))
      )
      assert.strictEqual(report.total, 5)
      assert.deepStrictEqual(report.outcomes, {
        Canceled: 2,
        AlreadyCanceled: 1,
        NotCancelable: 1,
        NotFound: 1,
        Rejected: 0,
        GaveUp: 0
      })
      assert.strictEqual(report.amountReleased, 5000)
      const calls = yield* sandbox.calls
      const cancels = calls.filter((c) => c.path.endsWith("/cancel"))
      // Happy paths: one call each; refused ones: cancel + classifying read; missing: one call.
      assert.strictEqual(cancels.length, 5)
      assert.strictEqual(calls.length, 5 + 2)
      assert.strictEqual(Option.getOrThrow(yield* sandbox.released(capture!.payment_intent_id)), 5000)
    })
  )

  it.scopedLive("a resubmitted intent returns its stored outcome without another API call", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 8 })
      const store = yield* tempStore
      const [intent] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      const id = intent!.payment_intent_id
      const layer = workerLayer(sandbox, store)
      const first = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(Effect.provide(layer))
      assert.strictEqual(first.outcomes.Canceled, 1)
      const before = (yield* sandbox.calls).length
      const again = yield* Batch.run(inputs([id, id.toLowerCase()]), { concurrency: 1, retryGaveUp: false }).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(again.outcomes.Canceled, 1)
      assert.strictEqual(again.resubmitted, 1)
      assert.strictEqual(again.duplicates, 1)
      assert.strictEqual(again.apiCalls, 0)
      assert.strictEqual((yield* sandbox.calls).length, before)
      const rows = yield* Effect.flatMap(Store, (s) => s.all).pipe(
        Effect.provide(workerLayer(sandbox, store).pipe(Layer.orDie))
      )
      assert.strictEqual(rows.length, 1)
    })
  )
})

import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect, Layer, Option } from "effect"
import * as Batch from "../src/cli/Batch.js"
import { Store } from "../src/store/Store.js"
import { inputs, tempStore, workerLayer } from "./support/harness.js"

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

describe("CancelWorkflow: the other outcomes", () => {
  it.scopedLive("processing on every attempt is GaveUp with the advice, and --retry-gave-up runs it again", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 9 })
      const store = yield* tempStore
      const [processing] = yield* sandbox.createIntents([{ status: "processing" }])
      const id = processing!.payment_intent_id
      const layer = workerLayer(sandbox, store)
      const report = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(Effect.provide(layer))
      assert.strictEqual(report.outcomes.GaveUp, 1)
      assert.match(
        report.needsAttention[0]!.reason,
        /still processing after \d+ attempts; run it again once it settles/
      )
      assert.include(report.needsAttention[0]!.reason, "--retry-gave-up")
      const before = (yield* sandbox.calls).length
      const again = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: true }).pipe(Effect.provide(layer))
      assert.strictEqual(again.outcomes.GaveUp, 1)
      assert.isAbove((yield* sandbox.calls).length, before, "the advice's flag ran the request again")
    })
  )

  it.scopedLive(
    "a refused key stops the batch after one call, records nothing, and the next run with the right key finishes",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 11, apiKey: "fsk_test_only_this_one" })
        const store = yield* tempStore
        const intents = yield* sandbox.createIntents([
          { status: "requires_capture", amount: 300, capture_method: "manual" },
          { status: "requires_capture", amount: 400, capture_method: "manual" },
          { status: "requires_payment_method" }
        ])
        const ids = intents.map((i) => i.payment_intent_id)
        const refused = yield* Effect.flip(
          Batch.run(inputs(ids), { concurrency: 1, retryGaveUp: false }).pipe(
            Effect.provide(workerLayer({ ...sandbox, apiKey: "fsk_test_wrong" }, store))
          )
        )
        assert.strictEqual(refused._tag, "KeyRejected")
        assert.include(refused.message, "401")
        assert.include(refused.message, "3 requests are still pending")
        assert.notInclude(refused.message, "fsk_test_wrong")
        assert.strictEqual((yield* sandbox.calls).length, 1, "the first 401 stopped every further call")
        const layer = workerLayer(sandbox, store)
        const stored = yield* Effect.flatMap(Store, (s) => s.counts).pipe(Effect.provide(layer))
        assert.deepStrictEqual(stored, { requests: 3, outcomes: 0 })
        // The right key: every request finishes, none was poisoned by the refusal.
        const report = yield* Batch.run(inputs([]), { concurrency: 2, retryGaveUp: false }).pipe(Effect.provide(layer))
        assert.strictEqual(report.outcomes.Canceled, 3)
        assert.strictEqual(report.amountReleased, 700)
      })
  )

  it.scopedLive("a 503 storm ends in GaveUp after a confirming read; --retry-gave-up runs it again", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 10 })
      const store = yield* tempStore
      const [intent] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 700, capture_method: "manual" }
      ])
      const id = intent!.payment_intent_id
      yield* sandbox.setFaults({ cancel: { error_rate: 1, error_statuses: [503] } })
      const layer = workerLayer(sandbox, store)
      const first = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(Effect.provide(layer))
      assert.strictEqual(first.outcomes.GaveUp, 1)
      assert.include(first.needsAttention[0]!.reason, "503")
      const calls = yield* sandbox.calls
      // After each ambiguous 503 the worker read the intent before sending again, and it ended on a read.
      assert.strictEqual(calls[calls.length - 1]!.method, "GET")
      for (let i = 1; i < calls.length; i++) {
        if (calls[i]!.method === "POST") assert.strictEqual(calls[i - 1]!.method, "GET", `call ${i} follows a read`)
      }
      // Without the flag a resubmission keeps the outcome; with it, the request runs again.
      const kept = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(Effect.provide(layer))
      assert.strictEqual(kept.outcomes.GaveUp, 1)
      assert.strictEqual(kept.apiCalls, 0)
      yield* sandbox.setFaults("none")
      const retried = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: true }).pipe(Effect.provide(layer))
      assert.strictEqual(retried.outcomes.Canceled, 1)
      assert.strictEqual(retried.amountReleased, 700)
    })
  )

  it.scopedLive("--rate holds: the sandbox never sees more calls in a second than the rate", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 12 })
      const store = yield* tempStore
      const intents = yield* sandbox.createIntents(
        Array.from({ length: 45 }, () => ({ status: "requires_capture" as const }))
      )
      const rate = 15
      yield* Batch.run(inputs(intents.map((i) => i.payment_intent_id)), { concurrency: 16, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer(sandbox, store, rate))
      )
      const times = (yield* sandbox.calls).map((c) => Date.parse(c.at)).sort((a, b) => a - b)
      assert.strictEqual(times.length, 45)
      let worst = 0
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= 1000) j++
        worst = Math.max(worst, i - j + 1)
      }
      // Calls are spaced 1/rate apart; a late call (a busy event loop, a shared CI core) can bunch with the
      // next ones at the sandbox, hence a stated tolerance of 20 %.
      assert.isAtMost(worst, Math.ceil(rate * 1.2), `at most ${worst} calls in one second`)
      assert.isAtLeast(worst, rate - 2, "and the limiter is not needlessly slow")
    })
  )
})

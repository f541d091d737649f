import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Batch from "../src/cli/Batch.js"
import { inputs, tempStore, workerLayer } from "./support/harness.js"
import * as Invariants from "./support/invariants.js"

const scenario = (name: string, faults: Parameters<Sandbox.SandboxHandle["setFaults"]>[0]) =>
  it.scopedLive(`${name}: every request ends Canceled, nothing lost, amounts add up`, () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 11 })
      const store = yield* tempStore
      const intents = yield* sandbox.createIntents(
        Array.from({ length: 12 }, (_, i) => ({
          status: "requires_capture" as const,
          amount: 1000 + i,
          capture_method: "manual" as const
        }))
      )
      yield* sandbox.setFaults(faults)
      const ids = intents.map((pi) => pi.payment_intent_id)
      const report = yield* Batch.run(inputs(ids), { concurrency: 12, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer(sandbox, store))
      )
      const calls = yield* sandbox.calls
      const injected = calls.filter((c) => c.fault !== null).length
      assert.isTrue(injected > 0, "the fault was injected at least once")
      assert.strictEqual(report.outcomes.Canceled, 12, JSON.stringify(report.needsAttention))
      const summary = yield* Invariants.check(sandbox, store, ids)
      assert.deepStrictEqual(summary.violations, [])
      assert.strictEqual(
        report.amountReleased,
        intents.reduce((sum, pi) => sum + pi.amount, 0)
      )
    })
  )

describe("faults end in the right outcome", () => {
  scenario("5xx", { cancel: { error_rate: 0.4 }, retrieve: { error_rate: 0.2 } })
  scenario("connection resets", { cancel: { reset_rate: 0.4 }, retrieve: { reset_rate: 0.2 } })
  scenario("hangs", { cancel: { hang_rate: 0.25 } })
  scenario("malformed bodies", { cancel: { malformed_rate: 0.4 }, retrieve: { malformed_rate: 0.2 } })
  scenario("HTML 502 from a proxy", { cancel: { html_502_rate: 0.4 } })
  scenario("commit then drop (the ambiguous failure)", { cancel: { commit_then_drop_rate: 0.5 } })
  scenario("429 with Retry-After", { rate_limit: { requests_per_second: 5 } })
  scenario("everything at once", {
    default: { error_rate: 0.1, reset_rate: 0.05, malformed_rate: 0.05, html_502_rate: 0.05 },
    cancel: { error_rate: 0.1, commit_then_drop_rate: 0.1, reset_rate: 0.05 }
  })
})

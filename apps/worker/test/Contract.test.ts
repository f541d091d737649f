import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import Database from "better-sqlite3"
import { Effect, Option } from "effect"
import * as Batch from "../src/cli/Batch.js"
import { Store } from "../src/store/Store.js"
import { inputs, memoryWorkerLayer, tempStore, workerLayer } from "./support/harness.js"
import * as Pg from "./support/pg.js"

/**
 * One contract, run against every engine: the embedded one on SQLite (the default), the cluster engine
 * on SQLite (what stores were run with before), `WorkflowEngine.layerMemory`, and a cluster runner on
 * PostgreSQL. The workflow code is the same; only the engine layer differs.
 */

type Made = { store: string; runner?: RunnerAddress.RunnerAddress; engine?: "embedded" | "cluster" | "memory" }

const layerFor = (sandbox: Sandbox.SandboxHandle, made: Made) =>
  made.engine === "memory"
    ? memoryWorkerLayer(sandbox, made.store)
    : workerLayer(sandbox, made.store, 1000, made.runner, made.engine)

const contract = (engine: string, makeStore: Effect.Effect<Made, never, import("effect/Scope").Scope>) =>
  describe(`the cancellation contract on ${engine}`, () => {
    it.scopedLive("every seeded status ends in its outcome, one API call on the happy path, amounts add up", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 41 })
        const made = yield* makeStore
        const intents = yield* sandbox.createIntents([
          { status: "requires_capture", amount: 5000, capture_method: "manual" },
          { status: "requires_payment_method", amount: 1200 },
          { status: "canceled" },
          { status: "succeeded" },
          { status: "processing" }
        ])
        const ids = [...intents.map((pi) => pi.payment_intent_id), "fpi_01J9M9S346Q3D25VT4F5V37E3S"]
        const report = yield* Batch.run(inputs(ids), { concurrency: 6, retryGaveUp: false }).pipe(
          Effect.provide(layerFor(sandbox, made))
        )
        assert.deepStrictEqual(report.outcomes, {
          Canceled: 2,
          AlreadyCanceled: 1,
          // succeeded: refund instead
          NotCancelable: 1,
          NotFound: 1,
          Rejected: 0,
          // processing on every attempt: to be run again once it settles
          GaveUp: 1
        })
        assert.include(report.needsAttention.find((n) => n.outcome === "GaveUp")?.reason ?? "", "still processing")
        assert.strictEqual(report.amountReleased, 5000)
        const cancels = (yield* sandbox.calls).filter((c) => c.path.endsWith("/cancel"))
        assert.strictEqual(cancels.filter((c) => c.path.includes(intents[0]!.payment_intent_id)).length, 1)
        assert.strictEqual(Option.getOrThrow(yield* sandbox.released(intents[0]!.payment_intent_id)), 5000)
        // The engine asked for is the one that ran: its tables hold the executions.
        if (made.engine === "embedded" || made.engine === "cluster") {
          const db = new Database(made.store, { readonly: true })
          const table = made.engine === "embedded" ? "flex_engine_executions" : "cluster_messages"
          const has = (name: string) =>
            db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
          assert.isTrue(has(table), `${table} in the store`)
          assert.isFalse(has(made.engine === "embedded" ? "cluster_messages" : "flex_engine_executions"))
          db.close()
        }
      })
    )

    it.scopedLive("faults and resubmission: nothing lost, no second cancel, outcomes stored once", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 42 })
        const made = yield* makeStore
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 15 }, (_, i) => ({
            status: "requires_capture" as const,
            amount: 100 + i,
            capture_method: "manual" as const
          }))
        )
        yield* sandbox.setFaults({ cancel: { error_rate: 0.2, commit_then_drop_rate: 0.2, reset_rate: 0.1 } })
        const ids = intents.map((pi) => pi.payment_intent_id)
        const layer = layerFor(sandbox, made)
        const first = yield* Batch.run(inputs(ids), { concurrency: 8, retryGaveUp: false }).pipe(Effect.provide(layer))
        assert.strictEqual(first.outcomes.Canceled, 15, JSON.stringify(first.needsAttention))
        const calls = (yield* sandbox.calls).length
        const again = yield* Batch.run(inputs(ids), { concurrency: 8, retryGaveUp: false }).pipe(Effect.provide(layer))
        assert.strictEqual(again.resubmitted, 15)
        assert.strictEqual((yield* sandbox.calls).length, calls)
        const rows = yield* Effect.flatMap(Store, (s) => s.all).pipe(Effect.provide(layer))
        assert.strictEqual(rows.length, 15)
        // Every cancel call was for a requested intent, and one intent's cancels all carried one key.
        const cancels = (yield* sandbox.calls).filter((c) => c.path.endsWith("/cancel"))
        const wanted = new Set(ids.map((id) => id.toLowerCase()))
        const keys = new Map<string, Set<string | null>>()
        for (const c of cancels) {
          const id = c.path.split("/")[3]!.toLowerCase()
          assert.isTrue(wanted.has(id), `cancel for an unrequested intent ${id}`)
          keys.set(id, (keys.get(id) ?? new Set()).add(c.idempotency_key))
        }
        for (const [id, set] of keys) assert.strictEqual(set.size, 1, `${id} was cancelled with ${set.size} keys`)
        for (const id of ids) assert.strictEqual(Option.getOrThrow(yield* sandbox.intent(id)).status, "canceled")
      })
    )
  })

contract(
  "the embedded engine (SQLite)",
  Effect.map(tempStore, (store) => ({ store, engine: "embedded" as const }))
)

contract(
  "the cluster engine on SQLite (FLEX_WORKER_ENGINE=cluster)",
  Effect.map(tempStore, (store) => ({ store, engine: "cluster" as const }))
)

contract(
  "the memory engine (WorkflowEngine.layerMemory)",
  Effect.map(tempStore, (store) => ({ store, engine: "memory" as const }))
)

if (Pg.url !== undefined) {
  contract(
    "a cluster runner (PostgreSQL)",
    Effect.gen(function* () {
      const db = yield* Pg.freshDatabase
      const port = yield* Pg.freePort
      return { store: db.url, runner: RunnerAddress.make("127.0.0.1", port) }
    })
  )
} else {
  describe("the cancellation contract on a cluster runner (PostgreSQL)", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}

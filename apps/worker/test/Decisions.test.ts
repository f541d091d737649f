/**
 * Decisions that move money, over the real sandbox: a second store never claims another store's
 * release, and parts of a response the flow does not read never decide its outcome (a proxy on
 * 127.0.0.1 rewrites the sandbox's answers into shapes this version does not know).
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect, Option } from "effect"
import * as Batch from "../src/cli/Batch.js"
import { Store } from "../src/store/Store.js"
import { inputs, tempStore, workerLayer } from "./support/harness.js"

/** A proxy in front of the sandbox whose JSON answers pass through `rewrite`. */
const rewritingProxy = (upstream: string, rewrite: (intent: Record<string, unknown>) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly server: Http.Server }>((resume) => {
      const server = Http.createServer(async (req, res) => {
        const headers: Record<string, string> = {}
        for (const name of ["authorization", "idempotency-key"]) {
          const value = req.headers[name]
          if (typeof value === "string") headers[name] = value
        }
        const answer = await fetch(upstream + req.url, { method: req.method ?? "GET", headers })
        const json = (await answer.json()) as { payment_intent?: Record<string, unknown> }
        if (json.payment_intent !== undefined) rewrite(json.payment_intent)
        res.writeHead(answer.status, { "content-type": "application/json" })
        res.end(JSON.stringify(json))
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }))
      )
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )

describe("decisions over the sandbox", () => {
  it.scopedLive(
    "a second store's cancel of an intent the first canceled is AlreadyCanceled: one release, claimed once",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 21 })
        const [intent] = yield* sandbox.createIntents([
          { status: "requires_capture", amount: 8900, capture_method: "manual" }
        ])
        const id = intent!.payment_intent_id
        const first = yield* tempStore
        const second = yield* tempStore
        const a = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(
          Effect.provide(workerLayer(sandbox, first))
        )
        const b = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(
          Effect.provide(workerLayer(sandbox, second))
        )
        assert.strictEqual(a.outcomes.Canceled, 1)
        assert.strictEqual(a.amountReleased, 8900)
        assert.strictEqual(b.outcomes.AlreadyCanceled, 1, "the second store did not make this release")
        assert.strictEqual(b.amountReleased, 0)
        assert.strictEqual((yield* sandbox.releases).length, 1)
        // The two stores sent different keys for the same request id.
        const keys = (yield* sandbox.calls).filter((c) => c.method === "POST").map((c) => c.idempotency_key)
        assert.strictEqual(new Set(keys).size, 2)
        const ids = yield* Effect.all(
          [first, second].map((store) =>
            Effect.map(Store, (s) => s.id).pipe(Effect.provide(workerLayer(sandbox, store)))
          )
        )
        assert.notStrictEqual(ids[0], ids[1])
        assert.isTrue(keys.every((k, i) => k?.startsWith(`${ids[i]}-`)))
      })
  )

  it.scopedLive("an expanded object of an unknown shape and non-string metadata do not stop a Canceled", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 22 })
      const [intent] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 1234, capture_method: "manual" }
      ])
      const proxy = yield* rewritingProxy(sandbox.url, (pi) => {
        pi.customer = { customer_id: 42, loyalty: { tier: "gold" } }
        pi.metadata = { order: 7, tags: ["a"] }
      })
      const report = yield* Batch.run(inputs([intent!.payment_intent_id]), { concurrency: 1, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer({ ...sandbox, url: proxy.url }, yield* tempStore))
      )
      assert.strictEqual(report.outcomes.Canceled, 1)
      assert.strictEqual(report.amountReleased, 1234)
      assert.strictEqual(report.apiCalls, 1)
      assert.isTrue(Option.isSome(yield* sandbox.released(intent!.payment_intent_id)))
    })
  )

  it.scopedLive("an unknown status is never recorded as canceled, and unreadable amounts are no Canceled either", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 23 })
      const [a, b] = yield* sandbox.createIntents([{ status: "requires_capture" }, { status: "requires_capture" }])
      const proxy = yield* rewritingProxy(sandbox.url, (pi) => {
        if (String(pi.payment_intent_id).toLowerCase() === a!.payment_intent_id.toLowerCase()) pi.status = "disputed"
        else pi.amount = "lots"
      })
      const report = yield* Batch.run(inputs([a!.payment_intent_id, b!.payment_intent_id]), {
        concurrency: 1,
        retryGaveUp: false
      }).pipe(Effect.provide(workerLayer({ ...sandbox, url: proxy.url }, yield* tempStore)))
      assert.strictEqual(report.outcomes.Canceled, 0)
      assert.strictEqual(report.outcomes.GaveUp, 2)
      const reasons = report.needsAttention.map((n) => n.reason).join("\n")
      assert.include(reasons, '"disputed"')
      assert.include(reasons, "amount")
    })
  )
})

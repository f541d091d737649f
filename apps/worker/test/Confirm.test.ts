/**
 * The confirming cancel (finding I of RELIABILITY.md): after an ambiguous cancel, a read that finds the
 * intent canceled is followed by a cancel with the same idempotency key, which says whose cancel it
 * was. A scripted proxy in front of the sandbox decides what each cancel gets back, call by call.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect, Option } from "effect"
import * as Batch from "../src/cli/Batch.js"
import * as CancelWorkflow from "../src/flow/CancelWorkflow.js"
import { inputs, tempStore, workerLayer } from "./support/harness.js"

/** What the proxy does with the n-th cancel (1-based); reads always pass through. */
type Action = "pass" | "commit-then-drop" | "commit-then-cut" | "503" | "someone-else-then-503"

const scriptedProxy = (upstream: string, script: (n: number) => Action) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly cancels: () => number; readonly server: Http.Server }>((resume) => {
      let cancels = 0
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", async () => {
          const isCancel = req.method === "POST" && (req.url ?? "").endsWith("/cancel")
          const action = isCancel ? script(++cancels) : "pass"
          if (action === "someone-else-then-503") {
            // Another system cancels the intent (its own key) just before ours fails without reaching Flex.
            await fetch(upstream + req.url, {
              method: "POST",
              headers: { authorization: req.headers.authorization ?? "", "idempotency-key": "someone-else" }
            })
          }
          if (action === "503" || action === "someone-else-then-503") {
            res.writeHead(503, { "content-type": "application/json" })
            res.end(JSON.stringify({ error: { type: "api_error", message: "scripted 503" } }))
            return
          }
          const headers: Record<string, string> = {}
          for (const name of ["authorization", "idempotency-key", "content-type"]) {
            const value = req.headers[name]
            if (typeof value === "string") headers[name] = value
          }
          const answer = await fetch(upstream + req.url, {
            method: req.method ?? "GET",
            headers,
            ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {})
          })
          const text = await answer.text()
          if (action === "commit-then-drop") {
            req.socket.destroy()
            return
          }
          const body = action === "commit-then-cut" ? text.slice(0, Math.floor(text.length / 2)) : text
          res.writeHead(answer.status, { "content-type": "application/json" })
          res.end(body)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, cancels: () => cancels, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  )

describe("CancelWorkflow: the confirming cancel", () => {
  it.scopedLive("a confirming cancel answered 200 with a cut body is our own 200 replayed: Canceled, amount kept", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 31 })
      const [intent] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 4200, capture_method: "manual" }
      ])
      const id = intent!.payment_intent_id
      // Ours lands and its answer is lost; the same-key cancel gets the replayed 200, cut short; then clean.
      const proxy = yield* scriptedProxy(sandbox.url, (n) =>
        n === 1 ? "commit-then-drop" : n === 2 ? "commit-then-cut" : "pass"
      )
      const report = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer({ ...sandbox, url: proxy.url }, yield* tempStore))
      )
      assert.strictEqual(report.outcomes.Canceled, 1, JSON.stringify(report.needsAttention))
      assert.strictEqual(report.amountReleased, 4200)
      assert.strictEqual(Option.getOrThrow(yield* sandbox.released(id)), 4200)
      // No third cancel: the cut 200 was enough, and a read (not a cancel) came last.
      assert.strictEqual(proxy.cancels(), 2)
      const calls = yield* sandbox.calls
      assert.strictEqual(calls[calls.length - 1]!.method, "GET")
    })
  )

  it.scopedLive(
    "confirming cancels that never get an answer end in GaveUp on a canceled intent, not AlreadyCanceled",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 32 })
        const [intent] = yield* sandbox.createIntents([
          { status: "requires_capture", amount: 900, capture_method: "manual" }
        ])
        const id = intent!.payment_intent_id
        const proxy = yield* scriptedProxy(sandbox.url, (n) => (n === 1 ? "commit-then-drop" : "503"))
        const report = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(
          Effect.provide(workerLayer({ ...sandbox, url: proxy.url }, yield* tempStore))
        )
        // Our cancel released 900, but the worker cannot show it was ours: it says so, for a person to check.
        assert.strictEqual(Option.getOrThrow(yield* sandbox.released(id)), 900)
        assert.strictEqual(report.outcomes.AlreadyCanceled, 0)
        assert.strictEqual(report.outcomes.GaveUp, 1)
        assert.include(report.needsAttention[0]!.reason, CancelWorkflow.unattributed)
        // The confirming cancels had a budget of their own (fastFlow: maxAttempts 12), beyond the first cancel.
        assert.strictEqual(proxy.cancels(), 1 + 12)
      })
  )

  it.scopedLive("a confirming cancel refused means the intent was canceled before ours: AlreadyCanceled", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 33 })
      const [intent] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 300 }])
      const id = intent!.payment_intent_id
      // Ours never reaches Flex (a 503) and someone else cancels meanwhile: the same-key cancel is refused.
      const proxy = yield* scriptedProxy(sandbox.url, (n) => (n === 1 ? "someone-else-then-503" : "pass"))
      const report = yield* Batch.run(inputs([id]), { concurrency: 1, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer({ ...sandbox, url: proxy.url }, yield* tempStore))
      )
      assert.strictEqual(report.outcomes.AlreadyCanceled, 1, JSON.stringify(report.needsAttention))
      assert.strictEqual(report.amountReleased, 0)
      assert.strictEqual(proxy.cancels(), 2)
    })
  )
})

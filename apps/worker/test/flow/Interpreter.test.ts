/**
 * The workflow as the machine's interpreter, on `WorkflowEngine.layerMemory` with `TestClock` (as
 * Effect's own workflow tests run engines): a scripted Flex client, a real SQLite store file. The
 * engines with real sockets, crashes and the sandbox are tested in test/*.test.ts and test/chaos.
 */

import { assert, describe, it } from "@effect/vitest"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { FlexClient, FlexError } from "@flex/http"
import { Context, Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import * as CancelRequest from "../../src/core/CancelRequest.js"
import * as Gate from "../../src/flex/Gate.js"
import * as CancelWorkflow from "../../src/flow/CancelWorkflow.js"
import type * as Intent from "../../src/flow/Intent.js"
import * as Settings from "../../src/flow/Settings.js"
import * as SqliteClient from "../../src/store/SqliteClient.js"
import * as Store from "../../src/store/Store.js"
import { tempStore } from "../support/harness.js"
import { intentId, snapshot } from "./support/script.js"

type Answer =
  | { readonly _tag: "ok"; readonly status: string }
  | { readonly _tag: "fail"; readonly error: FlexError.FlexError }

const path = `/v1/payment_intents/${intentId}/cancel`
const serverError = new FlexError.ServerError({ method: "POST", path, status: 503 })
const unauthorized = new FlexError.AuthenticationError({ method: "POST", path, status: 401 })

/** A Flex client that answers from a script and records what it was asked. */
const scripted = (answers: Array<Answer>) => {
  const seen: Array<{ readonly method: string; readonly idempotencyKey?: string | undefined }> = []
  let called!: () => void
  /** Resolves at the first call. */
  const first = new Promise<void>((resolve) => {
    called = resolve
  })
  const answer = (method: string, idempotencyKey?: string) =>
    Effect.suspend(() => {
      seen.push({ method, idempotencyKey })
      called()
      const next = answers.shift()
      if (next === undefined) return Effect.die("the script ran out")
      if (next._tag === "fail") return Effect.fail(next.error)
      return Effect.succeed({ snapshot: snapshot(next.status) } satisfies Intent.Viewed)
    })
  const service = {
    paymentIntents: {
      cancel: (_id: string, options?: { idempotencyKey?: string }) => answer("cancel", options?.idempotencyKey),
      retrieve: () => answer("retrieve"),
      list: () => Effect.die("not used"),
      listAll: () => Effect.die("not used")
    }
  } as unknown as FlexClient.Service
  return { seen, first, layer: Layer.succeed(FlexClient.FlexClient, service) }
}

const settings = Layer.succeed(Settings.FlowSettings, {
  maxAttempts: 3,
  maxReads: 3,
  baseDelay: Duration.seconds(1),
  maxDelay: Duration.seconds(10)
})

const world = (store: string, client: Layer.Layer<FlexClient.FlexClient>) =>
  CancelWorkflow.layer.pipe(
    Layer.provide(settings),
    Layer.provideMerge(Layer.mergeAll(client, Gate.layer, WorkflowEngine.layerMemory)),
    Layer.provideMerge(Store.layer),
    Layer.provide(SqliteClient.layer({ filename: store }))
  )

describe("CancelWorkflow interprets the machine (memory engine, TestClock)", () => {
  it.scoped("503, durable backoff, read canceled, confirming cancel with the same key: Canceled, recorded once", () =>
    Effect.gen(function* () {
      const file = yield* tempStore
      const client = scripted([
        { _tag: "fail", error: serverError },
        { _tag: "ok", status: "canceled" },
        { _tag: "ok", status: "canceled" }
      ])
      const context = yield* Layer.build(world(file, client.layer))
      const request = CancelRequest.make(intentId)
      const fiber = yield* CancelWorkflow.CancelPaymentIntent.execute(request).pipe(
        Effect.provide(context),
        Effect.fork
      )
      // The backoff is a sleep on the clock: after the first call, nothing more happens until it passed.
      yield* Effect.promise(() => client.first)
      yield* TestClock.adjust(Duration.millis(500))
      yield* Effect.sleep(Duration.millis(0)).pipe(Effect.repeatN(20))
      assert.deepStrictEqual(
        client.seen.map((s) => s.method),
        ["cancel"],
        "no read before the backoff (at least 750 ms) has passed"
      )
      // Then time moves on until the execution is done (it never needs more than a few seconds of it).
      for (let i = 0; i < 60 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
        yield* TestClock.adjust(Duration.seconds(1))
        yield* Effect.sleep(Duration.millis(0)).pipe(Effect.repeatN(5))
      }
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome._tag, "Canceled")
      assert.deepStrictEqual(
        client.seen.map((s) => s.method),
        ["cancel", "retrieve", "cancel"]
      )
      // One idempotency key for every cancel of the execution, carrying the store's id.
      const keys = client.seen.filter((s) => s.method === "cancel").map((s) => s.idempotencyKey)
      assert.strictEqual(new Set(keys).size, 1)
      const store = Context.get(context, Store.Store)
      assert.isDefined(store.id)
      assert.isTrue(keys[0]!.startsWith(`${store.id}-`))
      const stored = yield* store.outcome(request.requestId)
      assert.strictEqual(Option.getOrThrow(stored)._tag, "Canceled")
      assert.strictEqual(Option.getOrThrow(stored).apiCalls, 3)
    })
  )

  it.scoped("a refused key closes the gate: no outcome, no further call, the reason for the batch", () =>
    Effect.gen(function* () {
      const file = yield* tempStore
      const client = scripted([{ _tag: "fail", error: unauthorized }])
      const context = yield* Layer.build(world(file, client.layer))
      const request = CancelRequest.make(intentId)
      const fiber = yield* CancelWorkflow.CancelPaymentIntent.execute(request).pipe(
        Effect.provide(context),
        Effect.fork
      )
      const gate = Context.get(context, Gate.Gate)
      const reason = yield* gate.rejected
      assert.match(reason, /401/)
      yield* TestClock.adjust(Duration.minutes(10))
      assert.strictEqual(client.seen.length, 1, "nothing sent after the 401")
      assert.isTrue(Option.isNone(yield* Context.get(context, Store.Store).outcome(request.requestId)))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "the request stays pending")
      yield* Fiber.interrupt(fiber)
    })
  )
})

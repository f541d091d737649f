import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Chunk, Duration, Effect, Exit, Layer, Option, Redacted, Stream } from "effect"
import * as FlexClient from "../src/FlexClient.js"

// Integration: the client against @flex/sandbox over a real socket on 127.0.0.1.
const clientFor = (sandbox: Sandbox.SandboxHandle, options: Partial<FlexClient.Options> = {}) =>
  Effect.flatMap(Layer.build(NodeHttpClient.layerUndici), (context) =>
    FlexClient.make({
      apiKey: Redacted.make(sandbox.apiKey),
      baseUrl: sandbox.url,
      timeout: Duration.seconds(2),
      retryPolicy: { initialDelay: Duration.millis(5), maxDelay: Duration.millis(20) },
      ...options
    }).pipe(Effect.provide(context))
  )

const failure = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail"
      ? Effect.succeed(exit.cause.error)
      : Effect.dieMessage("expected a failure")
  )

describe("FlexClient against @flex/sandbox", () => {
  it.scopedLive("cancel, retrieve and list round-trip the sandbox's full nested responses", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 5 })
      const [hold] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 4200, capture_method: "manual" }
      ])
      const client = yield* clientFor(sandbox)
      const canceled = yield* client.paymentIntents.cancel(hold!.payment_intent_id)
      assert.strictEqual(canceled.status, "canceled")
      assert.strictEqual(canceled.amount_capturable, 0)
      assert.strictEqual(Option.getOrThrow(yield* sandbox.released(hold!.payment_intent_id)), 4200)
      const again = yield* client.paymentIntents.retrieve(hold!.payment_intent_id)
      assert.strictEqual(again.status, "canceled")
      const error = yield* failure(client.paymentIntents.cancel(hold!.payment_intent_id))
      assert.strictEqual(error._tag, "InvalidRequestError")
      if (error._tag === "InvalidRequestError") assert.strictEqual(error.code, "payment_intent_unexpected_state")
    })
  )

  it.scopedLive("listAll walks every page of the sandbox, newest first", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 6, intents: 23 })
      const client = yield* clientFor(sandbox)
      const all = yield* Stream.runCollect(client.paymentIntents.listAll({ limit: 5 }))
      const expected = (yield* sandbox.intents).map((pi) => pi.payment_intent_id)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(all).map((pi) => pi.payment_intent_id),
        expected
      )
      const pages = (yield* sandbox.calls).filter((c) => c.path.startsWith("/v1/payment_intents")).length
      assert.strictEqual(pages, 5)
    })
  )

  it.scopedLive("404 and 401 map to their errors", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 7 })
      const client = yield* clientFor(sandbox)
      const missing = yield* failure(client.paymentIntents.retrieve("fpi_01J9M9S346Q3D25VT4F5V37E3S"))
      assert.strictEqual(missing._tag, "NotFoundError")
      if (missing._tag === "NotFoundError") assert.strictEqual(missing.code, "resource_missing")
      const locked = yield* Sandbox.start({ seed: 7, apiKey: "fsk_test_pinned" })
      const wrong = yield* clientFor({ ...locked, apiKey: "fsk_test_other" })
      const denied = yield* failure(wrong.paymentIntents.list())
      assert.strictEqual(denied._tag, "AuthenticationError")
    })
  )

  it.scopedLive("commit then drop: the retry with the same key gets the stored 200", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 8 })
      const [hold] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      yield* sandbox.setFaults({ cancel: { commit_then_drop_rate: 1 } })
      const client = yield* clientFor(sandbox, { maxRetries: 1 })
      const dropped = yield* failure(client.paymentIntents.cancel(hold!.payment_intent_id, { maxRetries: 0 }))
      assert.strictEqual(dropped._tag, "ConnectionError")
      assert.strictEqual(Option.getOrThrow(yield* sandbox.intent(hold!.payment_intent_id)).status, "canceled")
      yield* sandbox.setFaults("none")
      const key = (yield* sandbox.calls)[0]!.idempotency_key!
      const replayed = yield* client.paymentIntents.cancel(hold!.payment_intent_id, { idempotencyKey: key })
      assert.strictEqual(replayed.status, "canceled")
    })
  )

  it.scopedLive("malformed JSON: a retrieve is read again under the retry policy, a cancel is not", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 10 })
      const [hold] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      const id = hold!.payment_intent_id
      yield* sandbox.setFaults({ default: { malformed_rate: 1 } })
      const client = yield* clientFor(sandbox, { maxRetries: 2 })
      const read = yield* failure(client.paymentIntents.retrieve(id))
      assert.strictEqual(read._tag, "DecodeError")
      const reads = (yield* sandbox.calls).filter((c) => c.method === "GET")
      assert.deepStrictEqual(
        reads.map((c) => c.fault),
        ["malformed_json", "malformed_json", "malformed_json"]
      )
      const cancel = yield* failure(client.paymentIntents.cancel(id))
      assert.strictEqual(cancel._tag, "DecodeError")
      const cancels = (yield* sandbox.calls).filter((c) => c.method === "POST")
      assert.strictEqual(cancels.length, 1)
      // The cancel acted: a retry would only have repeated it.
      assert.strictEqual(Option.getOrThrow(yield* sandbox.intent(id)).status, "canceled")
    })
  )

  it.scopedLive("the flaky preset: retries get every call through with one key per call", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 9 })
      const intents = yield* sandbox.createIntents(
        Array.from({ length: 20 }, () => ({ status: "requires_capture" as const }))
      )
      yield* sandbox.setFaults({ default: { error_rate: 0.2, reset_rate: 0.1 } })
      const client = yield* clientFor(sandbox, { maxRetries: 8 })
      yield* Effect.forEach(intents, (pi) => client.paymentIntents.cancel(pi.payment_intent_id), { concurrency: 5 })
      const calls = yield* sandbox.calls
      assert.isTrue(
        calls.some((c) => c.fault !== null),
        "faults were injected"
      )
      const keysPerIntent = new Map<string, Set<string | null>>()
      for (const c of calls) keysPerIntent.set(c.path, (keysPerIntent.get(c.path) ?? new Set()).add(c.idempotency_key))
      for (const [path, keys] of keysPerIntent) assert.strictEqual(keys.size, 1, path)
    })
  )
})

// The one-liner: a FlexClient of the sandbox in the same layer as the sandbox.
layer(
  FlexClient.layerSandbox(Effect.map(Sandbox.Sandbox, (sandbox) => sandbox.clientOptions)).pipe(
    Layer.provideMerge(Sandbox.layer({ seed: 11, apiKey: "fsk_test_layer_key" }))
  )
)("FlexClient.layerSandbox", (it) => {
  it.effect("points a client at the Sandbox service, with its key", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.Sandbox
      const client = yield* FlexClient.FlexClient
      const [hold] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 700 }])
      const canceled = yield* client.paymentIntents.cancel(hold!.payment_intent_id)
      assert.strictEqual(canceled.status, "canceled")
      assert.strictEqual(Option.getOrThrow(yield* sandbox.released(hold!.payment_intent_id)), 700)
    })
  )

  it.scoped("takes plain clientOptions and overrides", () =>
    Effect.gen(function* () {
      const other = yield* Sandbox.start({ seed: 12, faults: { default: { error_rate: 1 } } })
      const error = yield* failure(
        Effect.flatMap(FlexClient.FlexClient, (client) => client.paymentIntents.list()).pipe(
          Effect.provide(FlexClient.layerSandbox(other.clientOptions, { maxRetries: 0 }))
        )
      )
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual((yield* other.calls).length, 1)
    })
  )
})

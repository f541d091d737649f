import { createServer } from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { WebhookEvent } from "@flex/domain"
import { Sandbox, type Webhook } from "@flex/sandbox"
import { Deferred, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { FlexClient, WebhookReceiver } from "../src/index.js"
import { cancelResponse } from "./support/fixtures.js"

// The sandbox delivers its events over loopback to a receiver built with WebhookReceiver; the receiver
// verifies and decodes each one and deduplicates on event_id, as a service should. Nothing waits for a
// time: each step waits for the sandbox's delivery log to show what it expects.

/** The delivery log once `done` holds for it (the sandbox logs an attempt after the receiver answered). */
const logWhen = (
  sandbox: Sandbox.SandboxHandle,
  done: (log: ReadonlyArray<Webhook.Delivery>) => boolean
): Effect.Effect<ReadonlyArray<Webhook.Delivery>> =>
  Effect.gen(function* () {
    while (true) {
      const log = yield* sandbox.deliveries
      if (done(log)) return log
      yield* Effect.sleep("5 millis")
    }
  })

const ServerLive = NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })

describe("webhooks end to end: the sandbox delivering to a WebhookReceiver", () => {
  it.live("every event is verified and decoded once; a retry and a redelivery are deduplicated by event_id", () =>
    Effect.gen(function* () {
      const secret = yield* Deferred.make<Redacted.Redacted<string>>()
      const processed = new Map<string, WebhookEvent.WebhookEvent>()
      const duplicates: Array<string> = []
      const failedOnce = new Set<string>()

      const receiver = Effect.flatMap(Deferred.await(secret), (signingSecret) =>
        WebhookReceiver.toHttpApp({ secret: signingSecret }, (event) =>
          Effect.suspend(() => {
            if (processed.has(event.event_id)) {
              duplicates.push(event.event_id)
              return Effect.void
            }
            // The first attempt at a succeeded intent fails (a database down, say): the receiver answers
            // 500, records nothing, and the sandbox retries.
            if (event.event_type === "payment_intent.succeeded" && !failedOnce.has(event.event_id)) {
              failedOnce.add(event.event_id)
              return Effect.fail("not stored yet" as const)
            }
            processed.set(event.event_id, event)
            return Effect.void
          })
        )
      )
      yield* HttpServer.serveEffect(receiver)
      const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(`${address}/webhooks/flex`))

      const sandbox = yield* Sandbox.start({ seed: 15, webhooks: { attempts: 4, retryDelayMs: 10 } })
      const endpoint = yield* sandbox.registerWebhook({ url })
      yield* Deferred.succeed(secret, Redacted.make(endpoint.signing_secret))

      // The changes: two intents created (one with its invoice expanded), one succeeded (its invoice is
      // paid), one canceled through the public API with this package's client.
      const invoice = { ...cancelResponse().payment_intent.invoice, status: "open", amount_paid: 0 }
      const [paid, canceled] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 4999, invoice },
        { status: "requires_capture", amount: 1200 }
      ])
      yield* sandbox.succeedIntent(paid!.payment_intent_id)
      yield* Effect.flatMap(FlexClient.FlexClient, (client) =>
        client.paymentIntents.cancel(canceled!.payment_intent_id)
      ).pipe(Effect.provide(FlexClient.layerSandbox(sandbox.clientOptions)))

      const events = yield* sandbox.events
      assert.deepStrictEqual(events.map((event) => event.event_type).sort(), [
        "invoice.payment_succeeded",
        "payment_intent.created",
        "payment_intent.created",
        "payment_intent.succeeded",
        "sandbox.payment_intent.canceled"
      ])
      const log = yield* logWhen(sandbox, (log) =>
        events.every((event) => log.some((d) => d.event_id === event.event_id && d.outcome === "delivered"))
      )

      // Every event reached the handler verified and decoded, exactly once.
      assert.deepStrictEqual([...processed.keys()].sort(), events.map((event) => event.event_id).sort())
      for (const sent of events) {
        const event = processed.get(sent.event_id)!
        assert.strictEqual(event.event_type, sent.event_type)
        assert.strictEqual(event.event_dt, sent.event_dt)
        if (WebhookEvent.isUnknown(event)) {
          // Flex documents no cancel event: the sandbox's own one is an unknown event, kept as sent.
          assert.strictEqual(event.event_type, "sandbox.payment_intent.canceled")
          assert.deepStrictEqual(event.object, sent.object)
          continue
        }
        switch (event.event_type) {
          case "payment_intent.created":
          case "payment_intent.succeeded":
            assert.strictEqual(
              event.object.payment_intent.payment_intent_id,
              (sent.object.payment_intent as { payment_intent_id: string }).payment_intent_id
            )
            if (event.event_type === "payment_intent.succeeded") {
              assert.strictEqual(event.object.payment_intent.status, "succeeded")
              assert.strictEqual(event.object.payment_intent.amount_received, 4999)
            }
            break
          case "invoice.payment_succeeded":
            assert.strictEqual(event.object.invoice.status, "paid")
            assert.strictEqual(event.object.invoice.invoice_id, invoice.invoice_id)
            break
          default:
            assert.fail(`an event the sandbox does not send: ${event.event_type}`)
        }
      }

      // No delivery was refused (no 400, no 422); the one the handler failed was retried and delivered.
      const succeeded = events.find((event) => event.event_type === "payment_intent.succeeded")!
      const attempts = log.filter((d) => d.event_id === succeeded.event_id)
      assert.deepStrictEqual(
        attempts.map((d) => [d.attempt, d.status, d.outcome]),
        [
          [1, 500, "retrying"],
          [2, 204, "delivered"]
        ]
      )
      assert.isTrue(log.every((d) => d.status === 204 || d.status === 500))
      assert.deepStrictEqual(duplicates, [])

      // A redelivery: same event_id, a fresh timestamp and signature. Verified again, then deduplicated.
      yield* sandbox.redeliver(succeeded.event_id)
      yield* logWhen(sandbox, (log) =>
        log.some((d) => d.event_id === succeeded.event_id && d.redelivery && d.outcome === "delivered")
      )
      assert.deepStrictEqual(duplicates, [succeeded.event_id])
      assert.strictEqual(processed.size, events.length)
    }).pipe(
      Effect.scoped,
      // The 500 of the first attempt is logged by the server; the log is what this test reads.
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.provide(Layer.fresh(ServerLive))
    )
  )

  it.live("a receiver holding another secret refuses every delivery with 400, and the sandbox gives up", () =>
    Effect.gen(function* () {
      let reached = 0
      const receiver = WebhookReceiver.toHttpApp(
        { secret: Redacted.make(`fwhsec_${Buffer.from("not-the-sandbox-secret-00000000").toString("base64")}`) },
        () => Effect.sync(() => void reached++)
      )
      yield* HttpServer.serveEffect(receiver)
      const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(`${address}/webhooks/flex`))
      const sandbox = yield* Sandbox.start({ seed: 15, webhooks: { attempts: 2, retryDelayMs: 1 } })
      yield* sandbox.registerWebhook({ url, events: ["payment_intent.created"] })
      yield* sandbox.createIntents([{ status: "requires_payment_method" }])
      const log = yield* logWhen(sandbox, (log) => log.some((d) => d.outcome === "failed"))
      assert.deepStrictEqual(
        log.map((d) => [d.attempt, d.status, d.outcome]),
        [
          [1, 400, "retrying"],
          [2, 400, "failed"]
        ]
      )
      assert.strictEqual(reached, 0)
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.None), Effect.provide(Layer.fresh(ServerLive)))
  )
})

import { assert, describe, it } from "@effect/vitest"
import { ErrorBody, PaymentIntent } from "@flex/domain"
import { Deferred, Effect, Exit, Schema, Scope } from "effect"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { Engine } from "../src/internal/server.js"
import { startSandbox } from "../src/PromiseSandbox.js"
import * as Sandbox from "../src/Sandbox.js"
import * as Webhook from "../src/Webhook.js"
import { request } from "./support/http.js"
import { downUrl, type Received, receiver } from "./support/receiver.js"

const decodeEndpoint = Schema.decodeUnknownSync(Webhook.EndpointEnvelope)
const decodeEvent = Schema.decodeUnknownSync(Schema.parseJson(Webhook.Event))
const decodeDeliveries = Schema.decodeUnknownSync(Webhook.DeliveriesEnvelope)
const decodeEvents = Schema.decodeUnknownSync(Webhook.EventsEnvelope)
const decodeIntent = Schema.decodeUnknownSync(PaymentIntent.PaymentIntent)
const decodeEnvelope = Schema.decodeUnknownSync(PaymentIntent.Envelope)
const decodeError = Schema.decodeUnknownSync(ErrorBody.ErrorBody)

/** Checks a delivery with an independent implementation of the scheme (Standard Webhooks = Svix's). */
const verify = (secret: string, received: Received) =>
  new StandardWebhook(secret.replace(/^fwhsec_/, "")).verify(received.body, {
    "webhook-id": String(received.headers["svix-id"]),
    "webhook-timestamp": String(received.headers["svix-timestamp"]),
    "webhook-signature": String(received.headers["svix-signature"])
  })

const verifies = (secret: string, received: Received): boolean => {
  try {
    verify(secret, received)
    return true
  } catch {
    return false
  }
}

/** The delivery log once it satisfies `done`: deliveries end on their own schedule, so wait for the state. */
const deliveriesWhen = (
  sandbox: Sandbox.SandboxHandle,
  done: (deliveries: ReadonlyArray<Webhook.Delivery>) => boolean
): Effect.Effect<ReadonlyArray<Webhook.Delivery>> =>
  Effect.gen(function* () {
    while (true) {
      const deliveries = yield* sandbox.deliveries
      if (done(deliveries)) return deliveries
      yield* Effect.sleep("2 millis")
    }
  })

const post = (sandbox: Sandbox.SandboxHandle, path: string, body?: unknown) =>
  request(`${sandbox.url}${path}`, { method: "POST", key: sandbox.apiKey, body })

const fast = { attempts: 5, retryDelayMs: 1 }

describe("Webhooks", () => {
  it.scopedLive("registers through the public API and delivers a payment_intent.created that verifies", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 11, webhooks: fast })
      const hook = yield* receiver()
      const created = yield* post(sandbox, "/v1/webhooks", { webhook: { url: hook.url, events: ["*"] } })
      assert.strictEqual(created.status, 200)
      const { webhook } = decodeEndpoint(JSON.parse(created.body))
      assert.match(webhook.webhook_id, /^fwh_[0-9A-HJKMNP-TV-Z]{26}$/)
      assert.match(webhook.signing_secret, /^fwhsec_[A-Za-z0-9+/]{32}$/)
      assert.deepStrictEqual([webhook.url, webhook.events, webhook.test_mode], [hook.url, ["*"], true])
      const fetched = yield* request(`${sandbox.url}/v1/webhooks/${webhook.webhook_id}`, { key: sandbox.apiKey })
      assert.deepStrictEqual(decodeEndpoint(JSON.parse(fetched.body)).webhook, webhook)
      assert.deepStrictEqual(yield* sandbox.webhooks, [
        { id: webhook.webhook_id, url: hook.url, events: ["*"], signing_secret: webhook.signing_secret }
      ])
      // The webhook endpoints API is in the call log like the rest of /v1.
      assert.deepStrictEqual(
        (yield* sandbox.calls).map((call) => [call.method, call.path, call.status]),
        [
          ["POST", "/v1/webhooks", 200],
          ["GET", `/v1/webhooks/${webhook.webhook_id}`, 200]
        ]
      )

      const [intent] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 5000 }])
      const received = yield* hook.take
      assert.isTrue(verifies(webhook.signing_secret, received))
      assert.strictEqual(received.headers["content-type"], "application/json")
      assert.match(String(received.headers["svix-timestamp"]), /^\d{10}$/)
      assert.match(String(received.headers["svix-signature"]), /^v1,[A-Za-z0-9+/]{43}=$/)
      const event = decodeEvent(received.body)
      assert.strictEqual(event.event_type, "payment_intent.created")
      assert.strictEqual(event.event_id, received.headers["svix-id"])
      assert.match(event.event_id, /^evt_[0-9A-HJKMNP-TV-Z]{26}$/)
      assert.deepStrictEqual(decodeIntent(event.object.payment_intent), intent)
      assert.deepStrictEqual(yield* sandbox.events, [event])
      // The signature covers the exact bytes: a re-serialised or tampered body, or another secret, fails.
      assert.isFalse(verifies(webhook.signing_secret, { ...received, body: JSON.stringify(event, null, 1) }))
      assert.isFalse(verifies(webhook.signing_secret, { ...received, body: received.body.replace("5000", "5001") }))
      const other = yield* sandbox.registerWebhook({ url: hook.url, events: ["invoice.created"] })
      assert.isFalse(verifies(other.signing_secret, received))

      const deliveries = yield* deliveriesWhen(sandbox, (all) => all.length === 1)
      assert.deepStrictEqual(
        deliveries.map(({ at: _, ...rest }) => rest),
        [
          {
            event_id: event.event_id,
            event_type: "payment_intent.created",
            webhook_id: webhook.webhook_id,
            url: hook.url,
            attempt: 1,
            redelivery: false,
            status: 200,
            error: null,
            outcome: "delivered"
          }
        ]
      )
      // The admin API serves the same logs.
      const logged = yield* request(`${sandbox.url}/_sandbox/deliveries`, { key: sandbox.apiKey })
      assert.deepStrictEqual(decodeDeliveries(JSON.parse(logged.body)).deliveries, deliveries)
      const events = yield* request(`${sandbox.url}/_sandbox/events`, { key: sandbox.apiKey })
      assert.deepStrictEqual(decodeEvents(JSON.parse(events.body)).events, [event])
    })
  )

  it.scopedLive("signing secrets come from the seed", () =>
    Effect.gen(function* () {
      const secrets = (seed: number) =>
        Effect.scoped(
          Effect.gen(function* () {
            const sandbox = yield* Sandbox.start({ seed })
            const first = yield* sandbox.registerWebhook({ url: "http://127.0.0.1:9/a" })
            const second = yield* sandbox.registerWebhook({ url: "http://127.0.0.1:9/b" })
            yield* sandbox.reset
            const again = yield* sandbox.registerWebhook({ url: "http://127.0.0.1:9/a" })
            return [first.signing_secret, second.signing_secret, again.signing_secret]
          })
        )
      const [a, b, again] = yield* secrets(5)
      assert.notStrictEqual(a, b)
      assert.strictEqual(again, a)
      assert.deepStrictEqual(yield* secrets(5), [a, b, a])
      assert.notStrictEqual((yield* secrets(6))[0], a)
    })
  )

  it.scopedLive("a cancel through the public API sends the sandbox-only sandbox.payment_intent.canceled", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 12, intents: 5, webhooks: fast })
      const hook = yield* receiver()
      // Registered through the admin API; the seeded intents emitted nothing.
      const registered = yield* post(sandbox, "/_sandbox/webhooks", {
        webhook: { url: hook.url, events: ["sandbox.payment_intent.canceled"] }
      })
      assert.strictEqual(registered.status, 201)
      const { webhook } = decodeEndpoint(JSON.parse(registered.body))
      const [hold] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 2500 }])
      const canceled = yield* post(sandbox, `/v1/payment_intents/${hold.payment_intent_id}/cancel`)
      assert.strictEqual(canceled.status, 200)
      const received = yield* hook.take
      assert.isTrue(verifies(webhook.signing_secret, received))
      const event = decodeEvent(received.body)
      assert.strictEqual(event.event_type, "sandbox.payment_intent.canceled")
      assert.deepStrictEqual(
        decodeIntent(event.object.payment_intent),
        decodeEnvelope(JSON.parse(canceled.body)).payment_intent
      )
      // The created event was emitted but not sent: this endpoint subscribes to cancels only.
      assert.deepStrictEqual(
        (yield* sandbox.events).map((e) => e.event_type),
        ["payment_intent.created", "sandbox.payment_intent.canceled"]
      )
      const deliveries = yield* deliveriesWhen(sandbox, (all) => all.length === 1)
      assert.deepStrictEqual(
        deliveries.map((d) => [d.event_id, d.outcome]),
        [[event.event_id, "delivered"]]
      )
      // A refused cancel changes nothing and emits nothing.
      const again = yield* post(sandbox, `/v1/payment_intents/${hold.payment_intent_id}/cancel`)
      assert.strictEqual(again.status, 400)
      assert.strictEqual((yield* sandbox.events).length, 2)
    })
  )

  it.scopedLive("succeeding an intent sends payment_intent.succeeded, then invoice.payment_succeeded", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 13, webhooks: fast })
      const hook = yield* receiver()
      const [first, second] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 7000 },
        { status: "requires_confirmation", amount: 1200 }
      ])
      yield* sandbox.registerWebhook({
        url: hook.url,
        events: ["payment_intent.succeeded", "invoice.payment_succeeded"]
      })
      const succeeded = yield* sandbox.succeedIntent(first.payment_intent_id)
      assert.strictEqual(succeeded.status, "succeeded")
      assert.strictEqual(succeeded.amount_received, 7000)
      assert.strictEqual(succeeded.amount_capturable, 0)
      // Through the admin API too.
      const viaAdmin = yield* post(sandbox, `/_sandbox/payment_intents/${second.payment_intent_id}/succeed`)
      assert.strictEqual(viaAdmin.status, 200)
      assert.strictEqual(decodeEnvelope(JSON.parse(viaAdmin.body)).payment_intent.status, "succeeded")

      const bodies: Array<Webhook.Event> = []
      for (let i = 0; i < 4; i++) bodies.push(decodeEvent((yield* hook.take).body))
      const byType = (type: string) => bodies.filter((event) => event.event_type === type)
      const intents = byType("payment_intent.succeeded").map((event) => decodeIntent(event.object.payment_intent))
      assert.sameMembers(
        intents.map((intent) => intent.payment_intent_id),
        [first.payment_intent_id, second.payment_intent_id]
      )
      const invoices = byType("invoice.payment_succeeded").map(
        (event) => event.object.invoice as Record<string, unknown>
      )
      assert.strictEqual(invoices.length, 2)
      for (const invoice of invoices) assert.strictEqual(invoice.status, "paid")
      // The intents were created before any endpoint was registered: those events went nowhere, unrecorded.
      assert.deepStrictEqual(
        (yield* sandbox.events).map((event) => event.event_type),
        [
          "payment_intent.succeeded",
          "invoice.payment_succeeded",
          "payment_intent.succeeded",
          "invoice.payment_succeeded"
        ]
      )
      // A terminal intent cannot succeed; an unknown one does not exist.
      const refused = yield* Effect.flip(sandbox.succeedIntent(first.payment_intent_id))
      assert.strictEqual(refused.reason, "InvalidTransition")
      const missing = yield* Effect.flip(sandbox.succeedIntent("fpi_01J9M9S346Q3D25VT4F5V37E3S"))
      assert.strictEqual(missing.reason, "InvalidIntent")
      const again = yield* post(sandbox, `/_sandbox/payment_intents/${first.payment_intent_id}/succeed`)
      assert.strictEqual(again.status, 400)
      assert.strictEqual(decodeError(JSON.parse(again.body)).error.code, "payment_intent_unexpected_state")
    })
  )

  it.scopedLive("a receiver answering 500 then 200 gets the same event twice, and the log has both attempts", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 14, webhooks: fast })
      const hook = yield* receiver([500])
      const endpoint = yield* sandbox.registerWebhook({ url: hook.url })
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      const first = yield* hook.take
      const second = yield* hook.take
      assert.strictEqual(second.headers["svix-id"], first.headers["svix-id"])
      assert.strictEqual(second.body, first.body)
      assert.isTrue(verifies(endpoint.signing_secret, first))
      assert.isTrue(verifies(endpoint.signing_secret, second))
      const deliveries = yield* deliveriesWhen(sandbox, (all) => all.length === 2)
      assert.deepStrictEqual(
        deliveries.map((d) => [d.event_id, d.attempt, d.status, d.error, d.outcome]),
        [
          [first.headers["svix-id"], 1, 500, null, "retrying"],
          [first.headers["svix-id"], 2, 200, null, "delivered"]
        ]
      )
    })
  )

  it.scopedLive("a receiver that is down gets every attempt, then the log shows the failure", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 15, webhooks: { attempts: 3, retryDelayMs: 1 } })
      const url = yield* downUrl
      const endpoint = yield* sandbox.registerWebhook({ url })
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      const deliveries = yield* deliveriesWhen(sandbox, (all) => all.some((d) => d.outcome === "failed"))
      assert.deepStrictEqual(
        deliveries.map((d) => [d.webhook_id, d.attempt, d.status, d.error, d.outcome]),
        [
          [endpoint.id, 1, null, "ECONNREFUSED", "retrying"],
          [endpoint.id, 2, null, "ECONNREFUSED", "retrying"],
          [endpoint.id, 3, null, "ECONNREFUSED", "failed"]
        ]
      )
    })
  )

  it.scopedLive("an attempt that gets no answer in time is a timeout", () =>
    Effect.gen(function* () {
      // Generous: only the hanging attempt may time out, not one slowed by a busy machine.
      const sandbox = yield* Sandbox.start({ seed: 16, webhooks: { attempts: 10, retryDelayMs: 1, timeoutMs: 250 } })
      const hook = yield* receiver(["hang"])
      yield* sandbox.registerWebhook({ url: hook.url })
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      const hung = yield* hook.take
      // The sandbox gave up on the hanging attempt: its socket is closed, and a retry is answered.
      yield* Deferred.await(hung.socketClosed)
      yield* hook.take
      const deliveries = yield* deliveriesWhen(sandbox, (all) => all.some((d) => d.outcome !== "retrying"))
      assert.deepStrictEqual(
        [deliveries[0], deliveries[deliveries.length - 1]].map((d) => [d!.status, d!.error, d!.outcome]),
        [
          [null, "timeout", "retrying"],
          [200, null, "delivered"]
        ]
      )
      assert.deepStrictEqual(
        deliveries.map((d) => d.attempt),
        deliveries.map((_, i) => i + 1)
      )
    })
  )

  it.scopedLive("an endpoint gets only the event types it subscribes to, and an update changes them", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 17, webhooks: fast })
      const narrow = yield* receiver()
      const all = yield* receiver()
      const empty = yield* receiver()
      const a = yield* sandbox.registerWebhook({ url: narrow.url, events: ["payment_intent.succeeded"] })
      const b = yield* sandbox.registerWebhook({ url: all.url })
      const c = yield* sandbox.registerWebhook({ url: empty.url, events: [] })
      assert.deepStrictEqual([a.events, b.events, c.events], [["payment_intent.succeeded"], ["*"], []])
      const [intent] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      yield* sandbox.succeedIntent(intent.payment_intent_id)
      // Every attempt is chosen when the event is emitted, so once these 7 ended there are no others.
      const deliveries = yield* deliveriesWhen(sandbox, (log) => log.length === 7)
      const typesFor = (id: string) =>
        deliveries
          .filter((d) => d.webhook_id === id)
          .map((d) => d.event_type)
          .sort()
      assert.deepStrictEqual(typesFor(a.id), ["payment_intent.succeeded"])
      const every = ["invoice.payment_succeeded", "payment_intent.created", "payment_intent.succeeded"]
      assert.deepStrictEqual(typesFor(b.id), every)
      assert.deepStrictEqual(typesFor(c.id), every)
      assert.strictEqual(yield* narrow.count, 1)
      assert.strictEqual(decodeEvent((yield* narrow.take).body).event_type, "payment_intent.succeeded")

      // POST /v1/webhooks/{id} replaces the list.
      const updated = yield* post(sandbox, `/v1/webhooks/${a.id}`, { webhook: { events: ["payment_intent.created"] } })
      assert.strictEqual(updated.status, 200)
      assert.deepStrictEqual(decodeEndpoint(JSON.parse(updated.body)).webhook.events, ["payment_intent.created"])
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      const created = decodeEvent((yield* narrow.take).body)
      assert.strictEqual(created.event_type, "payment_intent.created")
    })
  )

  it.scopedLive("refuses an endpoint it cannot deliver to, or an event type nobody sends, with a clear 400", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 18 })
      const cases = [
        [{ webhook: { url: "ftp://user:hunter2@example.test/in" } }, "webhook.url must be an absolute http"],
        [{ webhook: { url: "not a url" } }, "webhook.url must be an absolute http"],
        [
          { webhook: { url: "http://127.0.0.1:9/", events: ["payment_intent.cancelled"] } },
          "webhook.events[0]: unknown"
        ],
        [{ webhook: { url: "http://127.0.0.1:9/", events: "*" } }, "webhook.events must be an array"],
        [{ url: "http://127.0.0.1:9/" }, 'Expected a body of the form {"webhook"']
      ] as const
      for (const [body, message] of cases) {
        const res = yield* post(sandbox, "/v1/webhooks", body)
        assert.strictEqual(res.status, 400, JSON.stringify(body))
        const { error } = decodeError(JSON.parse(res.body))
        assert.strictEqual(error.code, "invalid_request")
        assert.include(error.message, message)
        // A URL may carry credentials: it is never echoed.
        assert.notInclude(res.body, "hunter2")
      }
      const noBody = yield* request(`${sandbox.url}/v1/webhooks`, { method: "POST", key: sandbox.apiKey })
      assert.strictEqual(noBody.status, 400)
      const refused = yield* Effect.flip(sandbox.registerWebhook({ url: "ftp://user:hunter2@example.test/in" }))
      assert.strictEqual(refused.reason, "InvalidWebhook")
      assert.notInclude(refused.message, "hunter2")
      assert.strictEqual((yield* post(sandbox, "/v1/webhooks/fwh_nope", { webhook: {} })).status, 404)
      assert.strictEqual((yield* request(`${sandbox.url}/v1/webhooks`, { key: sandbox.apiKey })).status, 404)
      assert.deepStrictEqual(yield* sandbox.webhooks, [])
      // Options are checked like every other option.
      const badOptions = yield* Effect.flip(Sandbox.start({ webhooks: { attempts: 0 } }))
      assert.strictEqual(badOptions.reason, "InvalidOptions")
      assert.include(badOptions.message, "webhooks.attempts")
    })
  )

  it.scopedLive("DELETE /v1/webhooks/{id} stops deliveries to it", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 19, webhooks: fast })
      const gone = yield* receiver()
      const kept = yield* receiver()
      const a = yield* sandbox.registerWebhook({ url: gone.url })
      const b = yield* sandbox.registerWebhook({ url: kept.url })
      const deleted = yield* request(`${sandbox.url}/v1/webhooks/${a.id}`, { method: "DELETE", key: sandbox.apiKey })
      assert.strictEqual(deleted.status, 200)
      assert.strictEqual(decodeEndpoint(JSON.parse(deleted.body)).webhook.webhook_id, a.id)
      const after = yield* request(`${sandbox.url}/v1/webhooks/${a.id}`, { key: sandbox.apiKey })
      assert.strictEqual(after.status, 404)
      assert.strictEqual(decodeError(JSON.parse(after.body)).error.code, "resource_missing")
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      yield* kept.take
      const deliveries = yield* deliveriesWhen(sandbox, (log) => log.length === 1)
      assert.deepStrictEqual(
        deliveries.map((d) => d.webhook_id),
        [b.id]
      )
      assert.strictEqual(yield* gone.count, 0)
      assert.deepStrictEqual(
        (yield* sandbox.webhooks).map((endpoint) => endpoint.id),
        [b.id]
      )
    })
  )

  it.scopedLive("redeliver sends the same event again, with the same ID and body", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 20, webhooks: fast })
      const hook = yield* receiver()
      const endpoint = yield* sandbox.registerWebhook({ url: hook.url })
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      const original = yield* hook.take
      const eventId = String(original.headers["svix-id"])
      assert.deepStrictEqual(yield* sandbox.redeliver(eventId), [endpoint.id])
      const again = yield* hook.take
      // Through the admin API as well.
      const viaAdmin = yield* post(sandbox, `/_sandbox/events/${eventId}/redeliver`)
      assert.strictEqual(viaAdmin.status, 202)
      assert.deepStrictEqual(JSON.parse(viaAdmin.body), { event_id: eventId, webhooks: [endpoint.id] })
      const third = yield* hook.take
      for (const received of [again, third]) {
        assert.strictEqual(received.headers["svix-id"], eventId)
        assert.strictEqual(received.body, original.body)
        assert.isTrue(verifies(endpoint.signing_secret, received))
      }
      const deliveries = yield* deliveriesWhen(sandbox, (log) => log.length === 3)
      assert.deepStrictEqual(
        deliveries.map((d) => [d.event_id, d.attempt, d.redelivery, d.outcome]),
        [
          [eventId, 1, false, "delivered"],
          [eventId, 1, true, "delivered"],
          [eventId, 1, true, "delivered"]
        ]
      )
      const unknown = yield* Effect.flip(sandbox.redeliver("evt_01J9M9S346Q3D25VT4F5V37E3S"))
      assert.strictEqual(unknown.reason, "UnknownEvent")
      assert.strictEqual((yield* post(sandbox, "/_sandbox/events/evt_nope/redeliver")).status, 404)
      // A malformed percent-escape names nothing: a 404, and the sandbox (and its process) keeps answering.
      for (const path of ["/_sandbox/events/%E0%A4%A/redeliver", "/_sandbox/payment_intents/%E0%A4%A/succeed"]) {
        const malformed = yield* post(sandbox, path)
        assert.strictEqual(malformed.status, 404, path)
        assert.strictEqual(decodeError(JSON.parse(malformed.body)).error.code, "resource_missing")
      }
      assert.strictEqual((yield* post(sandbox, `/_sandbox/events/${eventId}/redeliver`)).status, 202)
    })
  )

  it.scopedLive("never puts a signing secret in an error, a log or an answer to a wrong key", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 21, webhooks: { attempts: 2, retryDelayMs: 1 } })
      const endpoint = yield* sandbox.registerWebhook({ url: yield* downUrl })
      const secret = endpoint.signing_secret
      const texts: Array<string> = []
      const wrongKey = yield* request(`${sandbox.url}/v1/webhooks/${endpoint.id}`, { key: "sk_live_wrong" })
      assert.strictEqual(wrongKey.status, 401)
      texts.push(wrongKey.body)
      for (const body of [{ webhook: { url: 7 } }, { webhook: { events: "*" } }, "nope"]) {
        const res = yield* post(sandbox, `/v1/webhooks/${endpoint.id}`, body)
        assert.strictEqual(res.status, 400)
        texts.push(res.body)
      }
      texts.push((yield* Effect.flip(sandbox.registerWebhook({ url: "x" }))).message)
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      texts.push(JSON.stringify(yield* deliveriesWhen(sandbox, (log) => log.some((d) => d.outcome === "failed"))))
      texts.push((yield* request(`${sandbox.url}/_sandbox/calls`, { key: sandbox.apiKey })).body)
      const key = secret.slice("fwhsec_".length)
      for (const text of texts) assert.notInclude(text, key)
    })
  )

  it.scopedLive("stopping the sandbox closes a delivery in flight and records nothing more", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const sandbox = yield* Scope.extend(Sandbox.start({ seed: 22, webhooks: { timeoutMs: 60_000 } }), scope)
      const hook = yield* receiver([], "hang")
      yield* sandbox.registerWebhook({ url: hook.url })
      yield* sandbox.createIntents([{ status: "requires_capture" }])
      const hung = yield* hook.take
      yield* Scope.close(scope, Exit.void)
      // The sandbox's end of the connection went away with it, long before the attempt's timeout.
      yield* Deferred.await(hung.socketClosed)
      assert.deepStrictEqual(yield* sandbox.deliveries, [])
    })
  )

  it.scopedLive("DELETE, close and reset drop pending retries: no timer or request is left", () =>
    Effect.gen(function* () {
      const hook = yield* receiver([], 500)
      const engine = new Engine({
        seed: 23,
        intents: 0,
        profile: {},
        apiKey: undefined,
        webhooks: { attempts: 5, retryDelayMs: 60_000, timeoutMs: 60_000 }
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => engine.close()))
      yield* Effect.promise(() => engine.listen("127.0.0.1", 0))
      const endpoint = engine.webhooks.register({ webhook: { url: hook.url } })
      assert.isTrue(typeof endpoint !== "string")
      const retrying = (until: number) =>
        Effect.gen(function* () {
          while (engine.webhooks.deliveries().length < until) yield* Effect.sleep("2 millis")
        })
      engine.store.create([{ status: "requires_capture" }])
      yield* hook.take
      yield* retrying(1)
      // One retry waits a minute on its timer.
      assert.strictEqual(engine.webhooks.pending, 1)
      engine.reset()
      assert.strictEqual(engine.webhooks.pending, 0)
      assert.deepStrictEqual(engine.webhooks.deliveries(), [])

      // Deleting the endpoint drops its retry, and only its own.
      const doomed = engine.webhooks.register({ webhook: { url: hook.url } })
      const other = yield* receiver([], 500)
      engine.webhooks.register({ webhook: { url: other.url } })
      engine.store.create([{ status: "requires_capture" }])
      yield* hook.take
      yield* other.take
      yield* retrying(2)
      assert.strictEqual(engine.webhooks.pending, 2)
      const deleted = engine.webhooks.api("DELETE", `/${typeof doomed === "string" ? "" : doomed.id}`, undefined)
      assert.strictEqual(deleted.status, 200)
      assert.strictEqual(engine.webhooks.pending, 1)
      yield* Effect.promise(() => engine.close())
      assert.strictEqual(engine.webhooks.pending, 0)
      // A stopped sandbox emits nothing.
      engine.store.create([{ status: "requires_capture" }])
      assert.strictEqual(engine.webhooks.pending, 0)
    })
  )

  it("works the same through the promise face", async () => {
    const sandbox = await startSandbox({ seed: 24, webhooks: fast })
    try {
      const [received] = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const hook = yield* receiver()
            const endpoint = yield* Effect.promise(() => sandbox.registerWebhook({ url: hook.url }))
            const [intent] = yield* Effect.promise(() => sandbox.createIntents([{ status: "requires_capture" }]))
            const succeeded = yield* Effect.promise(() => sandbox.succeedIntent(intent!.payment_intent_id))
            assert.strictEqual(succeeded.status, "succeeded")
            const first = yield* hook.take
            const eventId = String(first.headers["svix-id"])
            yield* hook.take
            yield* hook.take
            assert.deepStrictEqual(yield* Effect.promise(() => sandbox.redeliver(eventId)), [endpoint.id])
            const again = yield* hook.take
            assert.strictEqual(again.headers["svix-id"], eventId)
            assert.isTrue(verifies(endpoint.signing_secret, again))
            return [first] as const
          })
        )
      )
      const events = await sandbox.events()
      assert.deepStrictEqual(
        events.map((event) => event.event_type),
        ["payment_intent.created", "payment_intent.succeeded", "invoice.payment_succeeded"]
      )
      assert.include(
        events.map((event) => event.event_id),
        received.headers["svix-id"]
      )
      assert.strictEqual((await sandbox.webhooks()).length, 1)
      assert.isAtLeast((await sandbox.deliveries()).length, 3)
      const error = await sandbox.redeliver("evt_nope").then(
        () => undefined,
        (e: unknown) => e
      )
      assert.instanceOf(error, Sandbox.SandboxError)
    } finally {
      await sandbox.close()
    }
  })
})

import { createServer } from "node:http"
import { type HttpApp, HttpServer, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { WebhookEvent } from "@flex/domain"
import { Deferred, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { WebhookReceiver } from "../src/index.js"
import { cancelResponse } from "./support/fixtures.js"

// The receiver over a real socket on 127.0.0.1: requests signed by an independent implementation
// (standardwebhooks), sent with fetch, answered by @effect/platform's Node server.

const secretText = `whsec_${Buffer.from("receiver-test-key-0123456789abcd").toString("base64")}`
const secret = Redacted.make(secretText)
const otherText = `fwhsec_${Buffer.from("the-next-key-after-rotation-0001").toString("base64")}`

const eventBody = (
  type = "payment_intent.succeeded",
  object: unknown = { payment_intent: cancelResponse().payment_intent }
) => JSON.stringify({ event_id: "evt_01J9QKFBF5KZNWJ47TAN9ZT24M", event_type: type, event_dt: 1_727_784_005, object })

const signed = (body: string, options: { key?: string; timestamp?: number; id?: string } = {}) => {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
  const id = options.id ?? "msg_receiver_1"
  const signature = new StandardWebhook(options.key ?? secretText).sign(id, new Date(timestamp * 1000), body)
  return { "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": signature }
}

/** Serves `app` on 127.0.0.1, port 0, for the duration of `test`. */
const withServer = <A, E, AppE>(
  app: HttpApp.Default<AppE, HttpServerRequest.HttpServerRequest>,
  test: (url: string) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    yield* HttpServer.serveEffect(app)
    const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
    return yield* test(url)
  }).pipe(
    Effect.scoped,
    // The receiver logs each refusal; the assertions here read the answers instead.
    Logger.withMinimumLogLevel(LogLevel.None),
    Effect.provide(Layer.fresh(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })))
  )

const post = (url: string, body: string | Uint8Array, headers: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers }
    })
    const text = await response.text()
    const isJson = response.headers.get("content-type")?.includes("json") === true
    return { status: response.status, text, json: isJson ? (JSON.parse(text) as any) : undefined }
  })

/** A receiver that records the events its handler got. */
const recording = (options: WebhookReceiver.Options) => {
  const received: Array<WebhookEvent.WebhookEvent> = []
  const app = WebhookReceiver.toHttpApp(options, (event) => Effect.sync(() => void received.push(event)))
  return { app, received }
}

describe("WebhookReceiver over a real socket", () => {
  it.live("a delivery signed by standardwebhooks is verified, decoded and handed over; the answer is 204", () => {
    const { app, received } = recording({ secret })
    return withServer(app, (url) =>
      Effect.gen(function* () {
        const body = eventBody()
        const response = yield* post(url, body, signed(body))
        assert.strictEqual(response.status, 204)
        assert.strictEqual(received.length, 1)
        const event = received[0]!
        assert.strictEqual(event.event_type, "payment_intent.succeeded")
        if (WebhookEvent.isKnown(event) && event.event_type === "payment_intent.succeeded") {
          assert.strictEqual(event.object.payment_intent.payment_intent_id, "fpi_01J9M9S346Q3D25VT4F5V37E3S")
        }
      })
    )
  })

  it.live("a body over maxBodyBytes is 413 before it is verified, declared or streamed without a length", () => {
    const { app, received } = recording({ secret, maxBodyBytes: 1_000 })
    const roomy = recording({ secret, maxBodyBytes: 8_000 })
    return withServer(app, (url) =>
      Effect.gen(function* () {
        const body = eventBody()
        assert.isAbove(body.length, 1_000)
        const declared = yield* post(url, body, signed(body))
        assert.strictEqual(declared.status, 413)
        assert.strictEqual(declared.json.error.type, "RequestError")
        assert.include(declared.json.error.message, "1000 bytes")
        // Chunked: no content-length to refuse by, so the read itself stops at the limit (the server
        // then drops the connection mid-upload: a 413 or a closed socket, never a buffered body).
        const chunked = yield* Effect.promise(async () => {
          const bytes = new TextEncoder().encode(body)
          const stream = new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i < bytes.length; i += 512) controller.enqueue(bytes.slice(i, i + 512))
              controller.close()
            }
          })
          const response = await fetch(url, {
            method: "POST",
            body: stream,
            headers: { "content-type": "application/json", ...signed(body) },
            duplex: "half"
          } as RequestInit).then(
            (response) => String(response.status),
            (error: unknown) => String((error as { cause?: { code?: unknown } }).cause?.code)
          )
          return response
        })
        assert.include(["413", "UND_ERR_SOCKET", "ECONNRESET"], chunked)
        assert.strictEqual(received.length, 0)
      })
    ).pipe(
      // Under a limit it fits, the same delivery is taken.
      Effect.zipRight(
        withServer(roomy.app, (url) =>
          Effect.map(post(url, eventBody(), signed(eventBody())), (response) => {
            assert.strictEqual(response.status, 204)
            assert.strictEqual(roomy.received.length, 1)
          })
        )
      )
    )
  })

  it.live("bad signatures are 400 and never reach the handler", () => {
    const { app, received } = recording({ secret })
    return withServer(app, (url) =>
      Effect.gen(function* () {
        const body = eventBody()
        const good = signed(body)
        const { "svix-id": _, ...withoutId } = good
        const cases: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
          ["tampered body", body.replace("4999", "4998"), good],
          ["re-serialised body", JSON.stringify(JSON.parse(body), null, 1), good],
          ["wrong secret", body, signed(body, { key: otherText.slice(1) })],
          ["old timestamp", body, signed(body, { timestamp: Math.floor(Date.now() / 1000) - 3600 })],
          ["future timestamp", body, signed(body, { timestamp: Math.floor(Date.now() / 1000) + 3600 })],
          ["missing id", body, withoutId],
          ["no headers", body, {}],
          ["unknown version only", body, { ...good, "svix-signature": good["svix-signature"].replace("v1,", "v9,") }]
        ]
        const tags: Array<string> = []
        for (const [name, payload, headers] of cases) {
          const response = yield* post(url, payload, headers)
          assert.strictEqual(response.status, 400, name)
          tags.push(response.json.error.type)
          assert.notInclude(response.text, secretText.slice(6), name)
        }
        assert.deepStrictEqual(tags, [
          "SignatureMismatchError",
          "SignatureMismatchError",
          "SignatureMismatchError",
          "TimestampToleranceError",
          "TimestampToleranceError",
          "MissingHeaderError",
          "MissingHeaderError",
          "SignatureMismatchError"
        ])
        assert.strictEqual(received.length, 0)
      })
    )
  })

  it.live(
    "a signed body that is not an event is 422, naming the field; an unknown event type reaches the handler",
    () => {
      const { app, received } = recording({ secret })
      return withServer(app, (url) =>
        Effect.gen(function* () {
          const notJson = "this is not json"
          const notJsonResponse = yield* post(url, notJson, signed(notJson))
          assert.strictEqual(notJsonResponse.status, 422)
          assert.strictEqual(notJsonResponse.json.error.type, "InvalidPayloadError")

          const badIntent = eventBody("payment_intent.succeeded", {
            payment_intent: { ...cancelResponse().payment_intent, amount: -5 }
          })
          const badResponse = yield* post(url, badIntent, signed(badIntent))
          assert.strictEqual(badResponse.status, 422)
          assert.include(badResponse.json.error.message, "object.payment_intent.amount")
          assert.include(badResponse.json.error.message, "msg_receiver_1")

          const unknown = eventBody("payout.paid", { payout: { id: "po_1" } })
          const unknownResponse = yield* post(url, unknown, signed(unknown))
          assert.strictEqual(unknownResponse.status, 204)
          assert.strictEqual(received.length, 1)
          assert.strictEqual(received[0]!.event_type, "payout.paid")
          assert.deepStrictEqual(received[0]!.object, { payout: { id: "po_1" } })
        })
      )
    }
  )

  it.live("during a rotation deliveries signed with either secret are accepted", () => {
    const { app, received } = recording({ secret: [Redacted.make(otherText), secret] })
    return withServer(app, (url) =>
      Effect.gen(function* () {
        const body = eventBody()
        assert.strictEqual((yield* post(url, body, signed(body))).status, 204)
        // standardwebhooks strips only `whsec_`: give it the same key under that prefix.
        assert.strictEqual((yield* post(url, body, signed(body, { key: otherText.slice(1) }))).status, 204)
        assert.strictEqual(received.length, 2)
      })
    )
  })

  it.live("the handler's own response is sent; its failure is a 500, so Flex retries", () =>
    Effect.gen(function* () {
      const reply = WebhookReceiver.toHttpApp({ secret }, () =>
        Effect.succeed(HttpServerResponse.text("thanks", { status: 200 }))
      )
      yield* withServer(reply, (url) =>
        Effect.gen(function* () {
          const body = eventBody()
          const response = yield* post(url, body, signed(body))
          assert.deepStrictEqual([response.status, response.text], [200, "thanks"])
        })
      )
      const failing = WebhookReceiver.toHttpApp({ secret }, () => Effect.fail("database down" as const))
      yield* withServer(failing, (url) =>
        Effect.gen(function* () {
          const body = eventBody()
          assert.strictEqual((yield* post(url, body, signed(body))).status, 500)
        })
      )
    })
  )

  it.live("a secret that is not a signing secret is a 500 that does not show the secret", () => {
    const bad = "whsec_not base64 at all!"
    const { app, received } = recording({ secret: Redacted.make(bad) })
    return withServer(app, (url) =>
      Effect.gen(function* () {
        const body = eventBody()
        const response = yield* post(url, body, signed(body))
        assert.strictEqual(response.status, 500)
        assert.strictEqual(response.json.error.type, "ConfigurationError")
        assert.notInclude(response.text, "not base64 at all")
        assert.strictEqual(received.length, 0)
      })
    )
  })

  it.live(
    "refusals are logged (a warning; an invalid secret as an error) with the delivery's ID, never the secret",
    () =>
      Effect.gen(function* () {
        const logs: Array<{ level: string; text: string }> = []
        const capture = Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ logLevel, message }) => {
            logs.push({ level: logLevel.label, text: (Array.isArray(message) ? message : [message]).join(" ") })
          })
        )
        const serveAndPost = (options: WebhookReceiver.Options, payload: string, headers: Record<string, string>) =>
          Effect.gen(function* () {
            yield* HttpServer.serveEffect(WebhookReceiver.toHttpApp(options, () => Effect.void))
            const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
            return (yield* post(url, payload, headers)).status
          }).pipe(
            Effect.scoped,
            Effect.provide(Layer.fresh(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" }))),
            Effect.provide(capture)
          )
        const body = eventBody()
        assert.strictEqual(yield* serveAndPost({ secret }, `${body} `, signed(body)), 400)
        assert.strictEqual(yield* serveAndPost({ secret: Redacted.make("whsec_!!secret!!") }, body, signed(body)), 500)
        const refusals = logs.filter((log) => log.text.includes("Flex webhook refused"))
        assert.deepStrictEqual(
          refusals.map((log) => log.level),
          ["WARN", "ERROR"]
        )
        assert.include(refusals[0]!.text, "msg_receiver_1")
        assert.include(refusals[0]!.text, "signature mismatch")
        for (const log of logs) assert.notInclude(log.text, "!!secret!!")
      })
  )

  it.live("WebhookReceiver.event reads the request inside any route, bytes as sent", () =>
    Effect.gen(function* () {
      const seen = yield* Deferred.make<string>()
      const app = Effect.flatMap(Effect.either(WebhookReceiver.event({ secret })), (result) =>
        Effect.as(
          Deferred.succeed(seen, result._tag === "Right" ? result.right.event_type : result.left._tag),
          HttpServerResponse.empty({ status: 202 })
        )
      )
      yield* withServer(app, (url) =>
        Effect.gen(function* () {
          const body = eventBody("invoice.created", { invoice: cancelResponse().payment_intent.invoice })
          const bytes = new TextEncoder().encode(body)
          assert.strictEqual((yield* post(url, bytes, signed(body))).status, 202)
        })
      )
      assert.strictEqual(yield* Deferred.await(seen), "invoice.created")
    })
  )
})

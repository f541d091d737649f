import { FetchHttpClient } from "@effect/platform"
import type * as HttpClient from "@effect/platform/HttpClient"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Redacted, Schema, type Scope, Stream } from "effect"
import * as FlexClient from "../src/FlexClient.js"
import type * as FlexError from "../src/FlexError.js"
import { cancelResponse, intentId, intentWith } from "./support/fixtures.js"
import * as TestServer from "./support/TestServer.js"

const apiKey = "fsk_test_client_tests_0123456789"

// Each client with Effect's tracer on (the default) and off: without a tracer the client takes a path
// without spans (see `withSpan` in internal/request.ts), which must behave the same in every other way.
const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>, boolean]> = [
  ["NodeHttpClient (undici)", NodeHttpClient.layerUndici, true],
  ["FetchHttpClient", FetchHttpClient.layer, true],
  ["NodeHttpClient (undici), tracer off", NodeHttpClient.layerUndici, false],
  ["FetchHttpClient, tracer off", FetchHttpClient.layer, false]
]

// The HttpClient layer is built in the test's scope: undici's dispatcher lives as long as the test.
const clientFor = (
  server: TestServer.TestServer,
  http: Layer.Layer<HttpClient.HttpClient>,
  options: Partial<FlexClient.Options> = {}
) =>
  Effect.flatMap(Layer.build(http), (context) =>
    FlexClient.make({
      apiKey: Redacted.make(apiKey),
      baseUrl: server.url,
      maxRetries: 0,
      retryPolicy: { initialDelay: Duration.millis(1), maxDelay: Duration.millis(5) },
      ...options
    }).pipe(Effect.provide(context))
  )

const failureOf = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail"
      ? Effect.succeed(exit.cause.error)
      : Effect.dieMessage(`expected a typed failure, got ${Exit.isSuccess(exit) ? "success" : String(exit.cause)}`)
  )

for (const [name, http, traced] of clients) {
  const scopedLive = <A, E>(name: string, self: () => Effect.Effect<A, E, Scope.Scope>, timeout?: number) =>
    it.scopedLive(name, () => (traced ? self() : Effect.withTracerEnabled(self(), false)), timeout)

  describe(`FlexClient over ${name}`, () => {
    scopedLive("cancels: POST with key, idempotency key and user agent, decoded into a PaymentIntent", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const id = intentId(1)
        server.script(TestServer.json(200, intentWith(id), { "request-id": "req_123" }))
        const client = yield* clientFor(server, http)
        const intent = yield* client.paymentIntents.cancel(id)
        assert.strictEqual(intent.payment_intent_id, id)
        assert.strictEqual(intent.status, "canceled")
        assert.strictEqual(intent.amount, 4999)
        const [request] = server.requests
        assert.strictEqual(request?.method, "POST")
        assert.strictEqual(request?.url, `/v1/payment_intents/${id}/cancel`)
        assert.strictEqual(request?.headers.authorization, `Bearer ${apiKey}`)
        assert.strictEqual(request?.headers["user-agent"], FlexClient.userAgent)
        assert.match(FlexClient.userAgent, /^flex-ts\/\d+\.\d+\.\d+/)
        assert.match(String(request?.headers["idempotency-key"]), /^flex-ts-retry-[0-9a-f-]{36}$/)
      })
    )

    scopedLive("decodes with the caller's schema: a part the view does not read cannot fail it", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const id = intentId(3)
        // An expanded customer of a shape this version does not know: the full schema refuses it.
        const body = intentWith(id) as any
        body.payment_intent.customer = { customer_id: 42, unexpected: true }
        server.script(TestServer.json(200, body), TestServer.json(200, body), TestServer.json(200, body))
        const client = yield* clientFor(server, http)
        const View = Schema.Struct({ status: Schema.String, amount: Schema.Number })
        const view = yield* client.paymentIntents.cancel(id, { schema: View, idempotencyKey: "k-view-1" })
        assert.deepStrictEqual(view, { status: "canceled", amount: 4999 })
        const read = yield* client.paymentIntents.retrieve(id, { schema: View })
        assert.deepStrictEqual(read, { status: "canceled", amount: 4999 })
        const full = yield* failureOf(client.paymentIntents.retrieve(id))
        assert.strictEqual(full._tag, "DecodeError")
        assert.match((full as FlexError.DecodeError).field, /customer/)
      })
    )

    scopedLive("sends the caller's idempotency key when given", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        server.script(TestServer.json(200, intentWith(intentId(2))))
        const client = yield* clientFor(server, http)
        yield* client.paymentIntents.cancel(intentId(2), { idempotencyKey: "cancel-order-WC-88231" })
        assert.strictEqual(server.requests[0]?.headers["idempotency-key"], "cancel-order-WC-88231")
      })
    )

    scopedLive("maps every status to its error, with Flex's code, message and the request id", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        const cases: ReadonlyArray<readonly [number, FlexError.FlexError["_tag"]]> = [
          [400, "InvalidRequestError"],
          [401, "AuthenticationError"],
          [403, "PermissionError"],
          [404, "NotFoundError"],
          [409, "ConflictError"],
          [422, "InvalidRequestError"],
          [429, "RateLimitError"],
          [500, "ServerError"],
          [503, "ServerError"],
          [418, "ServerError"]
        ]
        for (const [status, tag] of cases) {
          server.script(
            TestServer.json(
              status,
              { error: { code: `code_${status}`, message: `message ${status}` } },
              { "x-request-id": `req_${status}` }
            )
          )
          const error = yield* failureOf(client.paymentIntents.cancel(intentId(3)))
          assert.strictEqual(error._tag, tag, `status ${status}`)
          assert.strictEqual(error.method, "POST")
          assert.strictEqual(error.path, `/v1/payment_intents/${intentId(3)}/cancel`)
          assert.strictEqual(error.requestId, `req_${status}`)
          if ("status" in error) assert.strictEqual(error.status, status)
          if ("code" in error) {
            assert.strictEqual(error.code, `code_${status}`)
            assert.strictEqual(error.detail, `message ${status}`)
          }
        }
        assert.strictEqual(server.requests.length, cases.length)
      })
    )

    scopedLive("reads Retry-After into a RateLimitError, in seconds or as an HTTP date", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        server.script(TestServer.json(429, { error: { code: "rate_limit" } }, { "retry-after": "3" }))
        const seconds = yield* failureOf(client.paymentIntents.cancel(intentId(4)))
        assert.strictEqual(seconds._tag, "RateLimitError")
        if (seconds._tag === "RateLimitError") assert.strictEqual(seconds.retryAfter, 3000)
        const date = new Date(Date.now() + 120_000).toUTCString()
        server.script(TestServer.json(429, { error: { code: "rate_limit" } }, { "retry-after": date }))
        const dated = yield* failureOf(client.paymentIntents.cancel(intentId(4)))
        if (dated._tag !== "RateLimitError") return assert.fail(dated._tag)
        assert.isTrue(dated.retryAfter !== undefined && dated.retryAfter > 100_000 && dated.retryAfter <= 120_000)
      })
    )

    scopedLive("an HTML 502 page from a proxy is a ServerError without the page in it", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        const page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        server.script(TestServer.raw(502, page, { "content-type": "text/html" }))
        const error = yield* failureOf(client.paymentIntents.cancel(intentId(5)))
        assert.strictEqual(error._tag, "ServerError")
        assert.notInclude(JSON.stringify(error), "<html>")
        assert.notInclude(error.message, "<html>")
      })
    )

    scopedLive("a reset connection is a ConnectionError", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        server.script(TestServer.reset)
        const error = yield* failureOf(client.paymentIntents.cancel(intentId(6)))
        assert.strictEqual(error._tag, "ConnectionError")
      })
    )

    scopedLive("a refused connection is a ConnectionError", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor({ ...server, url: "http://127.0.0.1:1" }, http)
        const error = yield* failureOf(client.paymentIntents.retrieve(intentId(7)))
        assert.strictEqual(error._tag, "ConnectionError")
        if (error._tag === "ConnectionError") assert.match(error.reason, /ECONNREFUSED|refused|fetch failed/i)
      })
    )

    scopedLive("a server that never answers is a TimeoutError at the configured timeout", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http, { timeout: Duration.millis(200) })
        server.script(TestServer.hang)
        const error = yield* failureOf(client.paymentIntents.cancel(intentId(8)))
        assert.strictEqual(error._tag, "TimeoutError")
        if (error._tag === "TimeoutError") assert.strictEqual(error.timeout, 200)
      })
    )

    scopedLive("a timed-out attempt, or an interrupted call, closes its request", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        // Polls until the condition holds, for at most 5 s.
        const eventually = (condition: () => boolean) =>
          Effect.gen(function* () {
            for (let i = 0; i < 500 && !condition(); i++) yield* Effect.sleep(Duration.millis(10))
          })
        const client = yield* clientFor(server, http, { timeout: Duration.millis(100) })
        server.script(TestServer.hang)
        const error = yield* failureOf(client.paymentIntents.cancel(intentId(8)))
        assert.strictEqual(error._tag, "TimeoutError")
        yield* eventually(() => server.aborted() >= 1)
        assert.strictEqual(server.aborted(), 1)
        server.script(TestServer.hang)
        const patient = yield* clientFor(server, http, { timeout: Duration.seconds(30) })
        const call = yield* Effect.fork(patient.paymentIntents.cancel(intentId(8)))
        yield* eventually(() => server.requests.length >= 2)
        yield* Fiber.interrupt(call)
        yield* eventually(() => server.aborted() >= 2)
        assert.strictEqual(server.aborted(), 2)
      })
    )

    scopedLive("a 200 that is not JSON, or does not match, is a DecodeError with the field path", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        server.script(TestServer.raw(200, '{"payment_intent": {"payment_int', { "content-type": "application/json" }))
        const truncated = yield* failureOf(client.paymentIntents.cancel(intentId(9)))
        assert.strictEqual(truncated._tag, "DecodeError")
        const wrong = intentWith(intentId(9), "requires_reauthorization")
        server.script(TestServer.json(200, wrong))
        const mismatch = yield* failureOf(client.paymentIntents.cancel(intentId(9)))
        if (mismatch._tag !== "DecodeError") return assert.fail(mismatch._tag)
        assert.strictEqual(mismatch.field, "payment_intent.status")
        assert.include(mismatch.detail, "requires_reauthorization")
        assert.strictEqual(server.requests.length, 2)
      })
    )

    scopedLive("a GET whose 200 body was cut short or is empty is read again, retrieve and list alike", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http, { maxRetries: 2 })
        const id = intentId(11)
        const full = JSON.stringify(intentWith(id, "requires_capture"))
        const cut = TestServer.raw(200, full.slice(0, full.length / 2), { "content-type": "application/json" })
        server.script(cut, TestServer.raw(200, ""), TestServer.json(200, intentWith(id, "requires_capture")))
        const intent = yield* client.paymentIntents.retrieve(id)
        assert.strictEqual(intent.status, "requires_capture")
        assert.deepStrictEqual(
          server.requests.map((r) => `${r.method} ${r.url}`),
          Array.from({ length: 3 }, () => `GET /v1/payment_intents/${id}`)
        )
        server.script(cut, TestServer.json(200, { payment_intents: [intentWith(id).payment_intent] }))
        const page = yield* client.paymentIntents.list({ limit: 1 })
        assert.strictEqual(page.length, 1)
        assert.strictEqual(server.requests.length, 5)
      })
    )

    scopedLive("a GET's cut body after the last retry is the DecodeError", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http, { maxRetries: 1 })
        server.fallback = () => TestServer.raw(200, '{"payment_intent": {"payment_int')
        const error = yield* failureOf(client.paymentIntents.retrieve(intentId(12)))
        if (error._tag !== "DecodeError") return assert.fail(error._tag)
        assert.strictEqual(error.field, "")
        assert.strictEqual(error.method, "GET")
        assert.strictEqual(server.requests.length, 2)
      })
    )

    scopedLive("not read again: a POST's cut body (the cancel may have acted), a GET's whole but wrong body", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http, { maxRetries: 2 })
        const id = intentId(13)
        server.fallback = () => TestServer.raw(200, '{"payment_intent": {"payment_int')
        const cut = yield* failureOf(client.paymentIntents.cancel(id))
        if (cut._tag !== "DecodeError") return assert.fail(cut._tag)
        assert.strictEqual(cut.field, "")
        assert.strictEqual(server.requests.length, 1)
        server.fallback = () => TestServer.json(200, intentWith(id, "requires_reauthorization"))
        const wrong = yield* failureOf(client.paymentIntents.retrieve(id))
        if (wrong._tag !== "DecodeError") return assert.fail(wrong._tag)
        assert.strictEqual(wrong.field, "payment_intent.status")
        assert.strictEqual(server.requests.length, 2)
      })
    )

    scopedLive("retries a 503 and a reset with the same idempotency key, then succeeds", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http, { maxRetries: 2 })
        server.script(TestServer.json(503, {}), TestServer.reset, TestServer.json(200, intentWith(intentId(10))))
        const intent = yield* client.paymentIntents.cancel(intentId(10))
        assert.strictEqual(intent.payment_intent_id, intentId(10))
        assert.strictEqual(server.requests.length, 3)
        const keys = new Set(server.requests.map((r) => r.headers["idempotency-key"]))
        assert.strictEqual(keys.size, 1)
        // A second call is a new logical request: a new key.
        server.script(TestServer.json(200, intentWith(intentId(10))))
        yield* client.paymentIntents.cancel(intentId(10))
        assert.notStrictEqual(
          server.requests[3]?.headers["idempotency-key"],
          server.requests[0]?.headers["idempotency-key"]
        )
      })
    )

    scopedLive("beforeAttempt runs once before every attempt, retries included (a rate limiter counts them all)", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        let before = 0
        const client = yield* clientFor(server, http, {
          maxRetries: 3,
          beforeAttempt: Effect.sync(() => {
            before++
          })
        })
        server.script(
          TestServer.json(503, {}),
          TestServer.json(500, {}),
          TestServer.json(200, intentWith(intentId(14)))
        )
        yield* client.paymentIntents.retrieve(intentId(14))
        assert.strictEqual(server.requests.length, 3)
        assert.strictEqual(before, 3)
      })
    )

    scopedLive("never retries a 400, and stops after maxRetries (per call overrides the client)", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http, { maxRetries: 2 })
        server.script(TestServer.json(400, { error: { code: "payment_intent_unexpected_state" } }))
        const error = yield* failureOf(client.paymentIntents.cancel(intentId(11)))
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual(server.requests.length, 1)
        server.fallback = () => TestServer.json(500, {})
        yield* failureOf(client.paymentIntents.cancel(intentId(11)))
        assert.strictEqual(server.requests.length, 1 + 3)
        yield* failureOf(client.paymentIntents.cancel(intentId(11), { maxRetries: 0 }))
        assert.strictEqual(server.requests.length, 1 + 3 + 1)
      })
    )

    scopedLive("rejects a malformed ID before any request", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        for (const bad of ["", "pi_123", "fpi_../../v1/customers", "fpi_01J9M9S346Q3D25VT4F5V37E3S?x=1"]) {
          const error = yield* failureOf(client.paymentIntents.cancel(bad))
          assert.strictEqual(error._tag, "InvalidRequestError")
          if (error._tag === "InvalidRequestError") assert.strictEqual(error.code, "invalid_payment_intent_id")
        }
        const key = yield* failureOf(client.paymentIntents.cancel(intentId(12), { idempotencyKey: "has space" }))
        assert.strictEqual(key._tag, "InvalidRequestError")
        assert.strictEqual(server.requests.length, 0)
      })
    )

    scopedLive("retrieve: GET, decoded; an undocumented 409 is a ServerError", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        server.script(TestServer.json(200, intentWith(intentId(13), "requires_capture")))
        const intent = yield* client.paymentIntents.retrieve(intentId(13))
        assert.strictEqual(intent.status, "requires_capture")
        assert.strictEqual(server.requests[0]?.method, "GET")
        assert.isUndefined(server.requests[0]?.headers["idempotency-key"])
        server.script(TestServer.json(409, {}))
        const error = yield* failureOf(client.paymentIntents.retrieve(intentId(13)))
        assert.strictEqual(error._tag, "ServerError")
      })
    )

    scopedLive("list sends the query; listAll walks pages by starting_after and stops on a short page", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        const all = Array.from({ length: 7 }, (_, i) => intentWith(intentId(100 - i)).payment_intent)
        server.fallback = (request) => {
          const url = new URL(request.url, "http://x")
          const limit = Number(url.searchParams.get("limit") ?? 10)
          const after = url.searchParams.get("starting_after")
          const start = after === null ? 0 : all.findIndex((pi) => pi.payment_intent_id === after) + 1
          return TestServer.json(200, { payment_intents: all.slice(start, start + limit) })
        }
        const page = yield* client.paymentIntents.list({ limit: 2, customer: "fcus_01HACM7FZ1084XB1GB6053VM0D" })
        assert.strictEqual(page.length, 2)
        assert.include(server.requests[0]?.url, "customer=fcus_01HACM7FZ1084XB1GB6053VM0D")
        const everything = yield* Stream.runCollect(client.paymentIntents.listAll({ limit: 3 }))
        assert.deepStrictEqual(
          Chunk.toReadonlyArray(everything).map((pi) => pi.payment_intent_id),
          all.map((pi) => pi.payment_intent_id)
        )
        // Pages of 3, 3, then a short page of 1.
        const walked = server.requests
          .slice(1)
          .map((r) => new URL(r.url, "http://x").searchParams.get("starting_after"))
        assert.deepStrictEqual(walked, [null, all[2].payment_intent_id, all[5].payment_intent_id])
      })
    )

    scopedLive("listAll of an exact multiple of the limit ends on the empty page", () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const client = yield* clientFor(server, http)
        const all = Array.from({ length: 4 }, (_, i) => intentWith(intentId(200 - i)).payment_intent)
        server.script(
          TestServer.json(200, { payment_intents: all.slice(0, 2) }),
          TestServer.json(200, { payment_intents: all.slice(2, 4) }),
          TestServer.json(200, { payment_intents: [] })
        )
        const everything = yield* Stream.runCollect(client.paymentIntents.listAll({ limit: 2 }))
        assert.strictEqual(Chunk.size(everything), 4)
        assert.strictEqual(server.requests.length, 3)
      })
    )
  })
}

describe("FlexClient fixture", () => {
  it("the copy of the cancel fixture matches @flex/domain's", async () => {
    const { readFileSync } = await import("node:fs")
    const domain = JSON.parse(
      readFileSync(new URL("../../domain/test/fixtures/cancel-response.json", import.meta.url), "utf8")
    )
    assert.deepStrictEqual(cancelResponse(), domain)
  })
})

describe("FlexClient user agent", () => {
  it("carries the package's version", async () => {
    const { readFileSync } = await import("node:fs")
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    assert.strictEqual(FlexClient.userAgent, `flex-ts/${pkg.version}`)
  })
})

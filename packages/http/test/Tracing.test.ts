import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Redacted, type Tracer } from "effect"
import * as FlexClient from "../src/FlexClient.js"
import { intentId, intentWith } from "./support/fixtures.js"
import { recordingTracer } from "./support/recordingTracer.js"
import * as TestServer from "./support/TestServer.js"

const clientFor = (server: TestServer.TestServer) =>
  Effect.flatMap(Layer.build(NodeHttpClient.layerUndici), (context) =>
    FlexClient.make({
      apiKey: Redacted.make("fsk_test_tracing_0123456789"),
      baseUrl: server.url,
      maxRetries: 1,
      retryPolicy: { initialDelay: Duration.millis(1), maxDelay: Duration.millis(5) }
    }).pipe(Effect.provide(context))
  )

const attributes = (span: Tracer.Span) => Object.fromEntries(span.attributes)
const parentOf = (span: Tracer.Span) => (span.parent._tag === "Some" ? span.parent.value.spanId : undefined)

describe("tracing", () => {
  it.scopedLive(
    "with a tracer installed: the call's span, a span per attempt with its attributes, around http.client",
    () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start
        const id = intentId(1)
        server.script(
          TestServer.json(503, { error: { code: "down", message: "down" } }),
          TestServer.json(200, intentWith(id))
        )
        const client = yield* clientFor(server)
        const { tracer, spans } = yield* recordingTracer
        yield* client.paymentIntents.cancel(id).pipe(Effect.withTracer(tracer))
        const names = spans.map((span) => span.name)
        assert.deepStrictEqual(names, [
          "FlexClient.paymentIntents.cancel",
          "Flex POST /v1/payment_intents/{id}/cancel",
          "http.client POST",
          "Flex POST /v1/payment_intents/{id}/cancel",
          "http.client POST"
        ])
        const [call, first, firstHttp, second, secondHttp] = spans as [
          Tracer.Span,
          Tracer.Span,
          Tracer.Span,
          Tracer.Span,
          Tracer.Span
        ]
        assert.strictEqual(parentOf(first), call.spanId)
        assert.strictEqual(parentOf(firstHttp), first.spanId)
        assert.strictEqual(parentOf(second), call.spanId)
        assert.strictEqual(parentOf(secondHttp), second.spanId)
        assert.deepInclude(attributes(first), {
          "http.request.method": "POST",
          "http.route": "/v1/payment_intents/{id}/cancel",
          "url.path": `/v1/payment_intents/${id}/cancel`,
          "flex.attempt": 0,
          "flex.error": "ServerError",
          "http.response.status_code": 503
        })
        assert.deepInclude(attributes(second), { "flex.attempt": 1, "http.response.status_code": 200 })
        assert.notProperty(attributes(second), "flex.error")
        // The platform's span records only the harmless headers by name.
        assert.strictEqual(attributes(firstHttp)["http.request.header.authorization"], "<redacted>")
        assert.strictEqual(attributes(firstHttp)["http.request.header.user-agent"], FlexClient.userAgent)
        // Propagated: the server saw the attempt's http.client span.
        assert.include(String(server.requests[1]?.headers.traceparent), secondHttp.spanId)
      })
  )

  it.scopedLive("with the tracer off: no span at all, no trace header", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start
      server.script(TestServer.json(200, intentWith(intentId(2))))
      const client = yield* clientFor(server)
      const { tracer, spans } = yield* recordingTracer
      const exit = yield* Effect.exit(
        client.paymentIntents.retrieve(intentId(2)).pipe(Effect.withTracer(tracer), Effect.withTracerEnabled(false))
      )
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(spans, [])
      assert.isUndefined(server.requests[0]?.headers.traceparent)
    })
  )

  it.scopedLive("with Effect's own tracer only: the platform's http.client span still carries the trace", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start
      server.script(TestServer.json(200, intentWith(intentId(3))))
      const client = yield* clientFor(server)
      const outer = yield* Effect.withSpan(
        Effect.flatMap(Effect.currentSpan, (span) => Effect.as(client.paymentIntents.retrieve(intentId(3)), span)),
        "caller"
      )
      // The request went out inside the caller's trace.
      assert.include(String(server.requests[0]?.headers.traceparent), outer.traceId)
    })
  )
})

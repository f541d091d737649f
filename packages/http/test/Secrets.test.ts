import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Layer, Logger, LogLevel, Redacted } from "effect"
import * as FlexClient from "../src/FlexClient.js"
import { intentId, intentWith } from "./support/fixtures.js"
import { recordingTracer } from "./support/recordingTracer.js"
import * as TestServer from "./support/TestServer.js"

const canary = "fsk_test_CANARY_7d1f0c2a9b4e"

describe("secrets", () => {
  it.scopedLive("no error message, serialised error, log line or span attribute contains the API key", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start
      const lines: Array<string> = []
      const logger = Logger.make(({ message, annotations }) => {
        lines.push(JSON.stringify({ message, annotations: Object.fromEntries(annotations) }))
      })
      const { tracer, spans } = yield* recordingTracer
      const context = yield* Layer.build(NodeHttpClient.layerUndici)
      const client = yield* FlexClient.make({
        apiKey: Redacted.make(canary),
        baseUrl: server.url,
        maxRetries: 1,
        timeout: Duration.millis(200),
        retryPolicy: { initialDelay: Duration.millis(1) }
      }).pipe(Effect.provide(context))

      // The server echoes the key back in bodies and headers, as a careless proxy might.
      const echo = { error: { code: "unauthorized", message: "bad key" }, key: canary }
      server.script(
        TestServer.json(401, echo, { "x-echo": canary }),
        TestServer.json(500, echo),
        TestServer.json(503, echo),
        TestServer.reset,
        TestServer.reset,
        TestServer.hang,
        TestServer.hang,
        TestServer.raw(200, `{"payment_intent": "${canary}"}`),
        TestServer.json(200, intentWith(intentId(1)))
      )
      const errors: Array<unknown> = []
      for (let i = 0; i < 6; i++) {
        const exit = yield* Effect.exit(
          client.paymentIntents
            .cancel(intentId(1))
            .pipe(
              Effect.withTracer(tracer),
              Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
              Logger.withMinimumLogLevel(LogLevel.All)
            )
        )
        if (Exit.isFailure(exit)) errors.push(exit.cause)
      }
      const tags = errors.map((cause: any) => cause.error?._tag)
      assert.deepStrictEqual(tags, [
        "AuthenticationError",
        "ServerError",
        "ConnectionError",
        "TimeoutError",
        "DecodeError"
      ])
      for (const cause of errors as Array<any>) {
        const error = cause.error
        assert.notInclude(error.message, canary)
        assert.notInclude(String(error), canary)
        assert.notInclude(JSON.stringify(error), canary)
        assert.notInclude(JSON.stringify(error.toJSON()), canary)
      }
      assert.isTrue(lines.length > 0, "the retries logged something")
      for (const line of lines) assert.notInclude(line, canary)
      assert.isTrue(spans.length > 0)
      for (const span of spans) {
        const attributes = JSON.stringify(Object.fromEntries((span as any).attributes ?? new Map()))
        assert.notInclude(attributes, canary)
      }
      // The header did carry the key: the test would pass vacuously otherwise.
      assert.strictEqual(server.requests[0]?.headers.authorization, `Bearer ${canary}`)
      const headerAttributes = spans.flatMap((span: any) => [...(span.attributes?.keys() ?? [])])
      assert.include(headerAttributes, "http.request.header.authorization")
    })
  )

  it.effect("a malformed FLEX_API_KEY is a config error naming the variable, not the value", () =>
    Effect.gen(function* () {
      const secret = "sk_live_NOT_A_FLEX_KEY_991"
      const exit = yield* Effect.exit(
        FlexClient.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FLEX_API_KEY", secret]]))))
      )
      assert.isTrue(Exit.isFailure(exit))
      const text = Exit.isFailure(exit) ? String(exit.cause) + JSON.stringify(exit.cause) : ""
      assert.include(text, "FLEX_API_KEY")
      assert.notInclude(text, secret)
    })
  )

  it.effect("a missing FLEX_API_KEY is a config error naming the variable", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        FlexClient.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.include(String(exit.cause), "FLEX_API_KEY")
    })
  )

  it.effect("reads the defaults and the overrides from the environment", () =>
    Effect.gen(function* () {
      const read = (entries: ReadonlyArray<readonly [string, string]>) =>
        FlexClient.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries))))
      const defaults = yield* read([["FLEX_API_KEY", "fsk_test_abc"]])
      assert.strictEqual(Redacted.value(defaults.apiKey), "fsk_test_abc")
      assert.strictEqual(String(defaults.apiKey), "<redacted>")
      assert.strictEqual(defaults.baseUrl, "https://api.withflex.com")
      assert.strictEqual(Duration.toMillis(Duration.decode(defaults.timeout!)), 30_000)
      assert.strictEqual(defaults.maxRetries, 2)
      const set = yield* read([
        ["FLEX_API_KEY", "fsk_live_abc"],
        ["FLEX_BASE_URL", "http://127.0.0.1:4010"],
        ["FLEX_TIMEOUT", "5"],
        ["FLEX_MAX_RETRIES", "0"]
      ])
      assert.strictEqual(set.baseUrl, "http://127.0.0.1:4010")
      assert.strictEqual(Duration.toMillis(Duration.decode(set.timeout!)), 5000)
      assert.strictEqual(set.maxRetries, 0)
      const bad = yield* Effect.exit(
        read([
          ["FLEX_API_KEY", "fsk_test_abc"],
          ["FLEX_TIMEOUT", "soon"]
        ])
      )
      assert.isTrue(Exit.isFailure(bad))
      if (Exit.isFailure(bad)) assert.include(String(bad.cause), "FLEX_TIMEOUT")
    })
  )
})

import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Random, Redacted, TestClock } from "effect"
import * as FlexClient from "../src/FlexClient.js"
import * as FlexError from "../src/FlexError.js"
import * as RetryPolicy from "../src/RetryPolicy.js"

const at = { method: "POST", path: "/v1/payment_intents/x/cancel" }
const server = (status: number) => new FlexError.ServerError({ ...at, status })
const byTag = {
  connection: new FlexError.ConnectionError({ ...at, reason: "ECONNRESET" }),
  timeout: new FlexError.TimeoutError({ ...at, timeout: 1000 }),
  conflict: new FlexError.ConflictError({ ...at, status: 409 }),
  rateLimit: new FlexError.RateLimitError({ ...at, status: 429 }),
  invalid: new FlexError.InvalidRequestError({ ...at, status: 400 }),
  auth: new FlexError.AuthenticationError({ ...at, status: 401 }),
  permission: new FlexError.PermissionError({ ...at, status: 403 }),
  notFound: new FlexError.NotFoundError({ ...at, status: 404 }),
  decode: new FlexError.DecodeError({ ...at, status: 200, field: "payment_intent.status", detail: "bad" })
}

/** Runs `retry` over an attempt that fails with the given errors in turn, counting attempts. */
const counting = (policy: RetryPolicy.RetryPolicy, errors: ReadonlyArray<FlexError.FlexError>) => {
  let attempts = 0
  const effect = RetryPolicy.retry(policy, () => {
    const error = errors[Math.min(attempts, errors.length - 1)]!
    attempts++
    return Effect.fail(error)
  })
  return { effect, attempts: () => attempts }
}

describe("RetryPolicy", () => {
  it("retries connection errors, timeouts, 408, 409, 429 and 5xx; never other 4xx or decode errors", () => {
    for (const error of [byTag.connection, byTag.timeout, byTag.conflict, byTag.rateLimit, server(500), server(503)]) {
      assert.isTrue(RetryPolicy.isRetryable(error), error._tag)
    }
    assert.isTrue(RetryPolicy.isRetryable(server(408)))
    for (const error of [byTag.invalid, byTag.auth, byTag.permission, byTag.notFound, byTag.decode, server(418)]) {
      assert.isFalse(RetryPolicy.isRetryable(error), `${error._tag} ${"status" in error ? error.status : ""}`)
    }
  })

  it("retries a GET whose 2xx body is not JSON; never a POST's, never a body that parses but does not match", () => {
    const notJson = { status: 200, field: "", detail: "the body is not JSON" }
    const get = { method: "GET", path: "/v1/payment_intents/x" }
    assert.isTrue(RetryPolicy.isRetryable(new FlexError.DecodeError({ ...get, ...notJson })))
    assert.isTrue(
      RetryPolicy.isRetryable(new FlexError.DecodeError({ ...get, ...notJson, detail: "the body is empty" }))
    )
    assert.isFalse(RetryPolicy.isRetryable(new FlexError.DecodeError({ ...at, ...notJson })))
    assert.isFalse(
      RetryPolicy.isRetryable(
        new FlexError.DecodeError({ ...get, status: 200, field: "payment_intent.status", detail: "x" })
      )
    )
  })

  it.effect("backs off exponentially from 500 ms with at most 25 % jitter, capped at 8 s", () =>
    Effect.gen(function* () {
      for (let seed = 0; seed < 50; seed++) {
        for (let retry = 0; retry < 8; retry++) {
          const wait = yield* RetryPolicy.delay(RetryPolicy.defaults, retry, server(503)).pipe(
            Effect.withRandom(Random.make(seed * 31 + retry))
          )
          const base = Math.min(500 * 2 ** retry, 8000)
          const millis = Duration.toMillis(wait)
          assert.isTrue(millis >= base * 0.75 && millis <= base, `retry ${retry}: ${millis} ms`)
        }
      }
    })
  )

  it.effect("honours Retry-After when it asks for longer, up to 60 s", () =>
    Effect.gen(function* () {
      const wait = (retryAfter: number) =>
        RetryPolicy.delay(RetryPolicy.defaults, 0, new FlexError.RateLimitError({ ...at, status: 429, retryAfter }))
      assert.strictEqual(Duration.toMillis(yield* wait(3000)), 3000)
      assert.strictEqual(Duration.toMillis(yield* wait(120_000)), 60_000)
      // A Retry-After shorter than the backoff does not shorten it.
      assert.isTrue(Duration.toMillis(yield* wait(0)) >= 375)
    })
  )

  it("backoffMillis is the same formula, pure: the jitter value picks the wait, Retry-After is capped", () => {
    const policy = RetryPolicy.make({ initialDelay: Duration.seconds(1), maxDelay: Duration.seconds(30) })
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 0, 0), 1000)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 3, 0), 8000)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 3, 0.999), Math.round(8000 * (1 - 0.25 * 0.999)))
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 10, 0), 30_000)
    // A server asking for longer wins, but never beyond maxRetryAfter (60 s): no hour-long sleeps.
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 0, 0, 5000), 5000)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 0, 0, 3_600_000), 60_000)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 5, 0, 10), 30_000)
  })

  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 0, 1)
    assert.strictEqual(RetryPolicy.parseRetryAfter("2", now), 2000)
    assert.strictEqual(RetryPolicy.parseRetryAfter(" 1.5 ", now), 1500)
    assert.strictEqual(RetryPolicy.parseRetryAfter(new Date(now + 10_000).toUTCString(), now), 10_000)
    assert.strictEqual(RetryPolicy.parseRetryAfter(new Date(now - 10_000).toUTCString(), now), 0)
    assert.isUndefined(RetryPolicy.parseRetryAfter("soon", now))
    assert.isUndefined(RetryPolicy.parseRetryAfter(undefined, now))
  })

  it.effect("makes maxRetries + 1 attempts at the scheduled times, then fails with the last error", () =>
    Effect.gen(function* () {
      const run = counting(RetryPolicy.defaults, [server(503)])
      const fiber = yield* Effect.fork(run.effect)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(run.attempts(), 1)
      yield* TestClock.adjust(Duration.millis(373)) // before the shortest first backoff (375 ms)
      assert.strictEqual(run.attempts(), 1)
      yield* TestClock.adjust(Duration.millis(126)) // 500 ms: the longest first backoff has passed
      assert.strictEqual(run.attempts(), 2)
      yield* TestClock.adjust(Duration.millis(1000))
      assert.strictEqual(run.attempts(), 3)
      const exit = yield* Fiber.await(fiber)
      assert.deepStrictEqual(exit, Exit.fail(server(503)))
      yield* TestClock.adjust(Duration.seconds(60))
      assert.strictEqual(run.attempts(), 3)
    })
  )

  it.effect("waits at least Retry-After before retrying a 429", () =>
    Effect.gen(function* () {
      const limited = new FlexError.RateLimitError({ ...at, status: 429, retryAfter: 5000 })
      const run = counting(RetryPolicy.make({ maxRetries: 1 }), [limited])
      const fiber = yield* Effect.fork(run.effect)
      yield* TestClock.adjust(Duration.millis(4999))
      assert.strictEqual(run.attempts(), 1)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(run.attempts(), 2)
      yield* Fiber.await(fiber)
    })
  )

  it.effect("never retries a 4xx or a decode error, and 0 retries means one attempt", () =>
    Effect.gen(function* () {
      for (const error of [byTag.invalid, byTag.auth, byTag.notFound, byTag.decode]) {
        const run = counting(RetryPolicy.defaults, [error])
        const exit = yield* Effect.exit(run.effect)
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(run.attempts(), 1, error._tag)
      }
      const off = counting(RetryPolicy.make({ maxRetries: 0 }), [server(503)])
      yield* Effect.exit(off.effect)
      assert.strictEqual(off.attempts(), 1)
    })
  )

  it.effect("FlexClient sends one idempotency key on every attempt of a call (mock HttpClient, TestClock)", () =>
    Effect.gen(function* () {
      const keys: Array<string | undefined> = []
      const mock = HttpClient.make((request) => {
        keys.push(request.headers["idempotency-key"])
        return Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{}", { status: 503 })))
      })
      const client = yield* FlexClient.make({ apiKey: Redacted.make("fsk_test_x"), maxRetries: 3 }).pipe(
        Effect.provide(Layer.succeed(HttpClient.HttpClient, mock))
      )
      const fiber = yield* Effect.fork(client.paymentIntents.cancel("fpi_01J9M9S346Q3D25VT4F5V37E3S"))
      yield* TestClock.adjust(Duration.minutes(1))
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(keys.length, 4)
      assert.strictEqual(new Set(keys).size, 1)
      assert.match(keys[0] ?? "", /^flex-ts-retry-/)
    })
  )
})

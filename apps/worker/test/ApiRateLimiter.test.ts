import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import * as ApiRateLimiter from "../src/ApiRateLimiter.js"

describe("ApiRateLimiter", () => {
  it.effect("spaces calls 1/rate apart, with no initial burst", () =>
    Effect.gen(function* () {
      const limiter = yield* ApiRateLimiter.make(10)
      let taken = 0
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 25 }), () => Effect.tap(limiter.take, () => taken++), { concurrency: 25 })
      )
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(taken, 1)
      yield* TestClock.adjust(Duration.millis(999))
      assert.strictEqual(taken, 11) // t = 0, 100, …, 1000 ms
      yield* TestClock.adjust(Duration.seconds(2))
      assert.strictEqual(taken, 25)
      yield* Fiber.join(fiber)
    })
  )

  it.effect("a rate of 0 means no limit", () =>
    Effect.gen(function* () {
      const limiter = yield* ApiRateLimiter.make(0)
      yield* Effect.forEach(Array.from({ length: 1000 }), () => limiter.take)
      assert.strictEqual(limiter.rate, Number.POSITIVE_INFINITY)
    })
  )
})

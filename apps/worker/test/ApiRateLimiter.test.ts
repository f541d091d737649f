import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Redacted, TestClock } from "effect"
import * as ApiRateLimiter from "../src/flex/ApiRateLimiter.js"
import * as Pg from "./support/pg.js"

/** The most timestamps in any window of `ms` (half-open, as the chaos suite counts them). */
const maxInWindow = (times: ReadonlyArray<number>, ms: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let worst = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++
    worst = Math.max(worst, i - j + 1)
  }
  return worst
}

/** Blocks the event loop, as a synchronous SQLite busy wait or a loaded machine does. */
const stall = (ms: number) =>
  Effect.sync(() => {
    const until = Date.now() + ms
    while (Date.now() < until) {
      // busy
    }
  })

/**
 * `calls` callers take a slot each (all queued at once, as a backlog of requests does); 300 ms in,
 * the event loop stalls for 500 ms. Returns when each call was let out, by the wall clock.
 */
const releasesAroundAStall = (limiter: ApiRateLimiter.Service, calls: number) =>
  Effect.gen(function* () {
    const sent: Array<number> = []
    const fiber = yield* Effect.fork(
      Effect.forEach(
        Array.from({ length: calls }),
        () => Effect.tap(limiter.take, () => Effect.sync(() => sent.push(Date.now()))),
        { concurrency: "unbounded" }
      )
    )
    yield* Effect.sleep("300 millis")
    yield* stall(500)
    yield* Fiber.join(fiber)
    return sent
  })

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

  it.effect("lets waiting callers out in the order they came", () =>
    Effect.gen(function* () {
      const limiter = yield* ApiRateLimiter.make(10)
      const order: Array<number> = []
      const fibers: Array<Fiber.RuntimeFiber<void>> = []
      for (let i = 0; i < 8; i++) {
        fibers.push(yield* Effect.fork(Effect.tap(limiter.take, () => order.push(i))))
        yield* Effect.yieldNow()
      }
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(order, [0, 1, 2, 3, 4, 5, 6, 7])
    })
  )

  it.effect("an interrupted caller, waiting in line or for its slot, takes no slot and blocks no one", () =>
    Effect.gen(function* () {
      const limiter = yield* ApiRateLimiter.make(10)
      const times: Record<string, number> = {}
      const caller = (name: string) =>
        Effect.fork(
          Effect.flatMap(limiter.take, () =>
            Effect.map(TestClock.currentTimeMillis, (now) => {
              times[name] = now
            })
          )
        )
      const a = yield* caller("a")
      yield* Effect.yieldNow()
      const b = yield* caller("b") // the next in line: sleeps for its slot
      yield* Effect.yieldNow()
      const c = yield* caller("c") // parked in line
      yield* Effect.yieldNow()
      const d = yield* caller("d")
      yield* Effect.yieldNow()
      yield* Fiber.join(a)
      yield* Fiber.interrupt(c)
      yield* TestClock.adjust(Duration.millis(50))
      yield* Fiber.interrupt(b)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(d)
      // d takes b's slot (100 ms): neither interrupted caller used one, nor held up the line.
      assert.deepStrictEqual(times, { a: 0, d: 100 })
    })
  )

  it.effect("a rate of 0 means no limit", () =>
    Effect.gen(function* () {
      const limiter = yield* ApiRateLimiter.make(0)
      yield* Effect.forEach(Array.from({ length: 1000 }), () => limiter.take)
      assert.strictEqual(limiter.rate, Number.POSITIVE_INFINITY)
    })
  )

  it.live(
    "after an event-loop stall one call goes out, and the rest follow 1/rate apart: no 1 s window over rate + 1",
    () =>
      Effect.gen(function* () {
        const rate = 20
        const sent = yield* releasesAroundAStall(yield* ApiRateLimiter.make(rate), 60)
        assert.strictEqual(sent.length, 60)
        const worst = maxInWindow(sent, 1000)
        assert.isAtMost(worst, rate + 1, `${worst} calls in one second at rate ${rate}`)
        // Slots are a spacing apart and a call goes out within half a spacing of its own: no two calls
        // closer than half the spacing (a few ms for the clock's rounding and for the moment between
        // taking the slot and recording the time), and no burst after the stall.
        const gaps = sent.slice(1).map((t, i) => t - sent[i]!)
        assert.isAtLeast(Math.min(...gaps), 1000 / rate / 2 - 5, `gaps ${gaps.join(",")}`)
      }),
    20_000
  )
})

const sharedTests = () => {
  it.scopedLive(
    "shared (PostgreSQL): a call that wakes late from a stall gives its slot up: no 1 s window over the bound",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const rate = 20
        const client = yield* Layer.build(PgClient.layer({ url: Redacted.make(db.url) }))
        const limiter = yield* Effect.provide(ApiRateLimiter.makeShared(rate), client)
        const sent = yield* releasesAroundAStall(limiter, 60)
        assert.strictEqual(sent.length, 60)
        // A call goes out at most `lateness` after its slot: at most one more per second than the
        // slots in it, plus one for a window that starts just after a call.
        const bound = rate + 1 + Math.ceil((rate * ApiRateLimiter.lateness(rate)) / 1000)
        const worst = maxInWindow(sent, 1000)
        assert.isAtMost(worst, bound, `${worst} calls in one second at rate ${rate} (bound ${bound})`)
      }),
    30_000
  )
}

if (Pg.url !== undefined) {
  describe("ApiRateLimiter.makeShared", sharedTests)
} else {
  describe("ApiRateLimiter.makeShared", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}

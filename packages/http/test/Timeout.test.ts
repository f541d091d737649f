import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, FiberRef, Ref, TestClock } from "effect"
import * as Timeout from "../src/internal/timeout.js"

const timedOut = "timed out" as const
const within = (millis: number) => Timeout.timeoutFail(Duration.millis(millis), () => timedOut)
const reference =
  (millis: number) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.timeoutFail(self, { duration: Duration.millis(millis), onTimeout: () => timedOut })

/** An effect that never ends on its own and records that it was interrupted. */
const hangs = (interrupted: Ref.Ref<boolean>) => Effect.never.pipe(Effect.onInterrupt(() => Ref.set(interrupted, true)))

describe("the per-attempt timeout (internal/timeout)", () => {
  it.live("answers as Effect.timeoutFail: success, failure, defect, timeout", () =>
    Effect.gen(function* () {
      const programs: ReadonlyArray<Effect.Effect<number, string>> = [
        Effect.succeed(1),
        Effect.delay(Effect.succeed(2), Duration.millis(5)),
        Effect.fail("no"),
        Effect.delay(Effect.fail("late no"), Duration.millis(5)),
        Effect.die(new Error("boom")),
        Effect.never,
        Effect.delay(Effect.succeed(3), Duration.millis(500))
      ]
      for (const program of programs) {
        const ours = yield* Effect.exit(program.pipe(within(50)))
        const theirs = yield* Effect.exit(program.pipe(reference(50)))
        assert.deepStrictEqual(ours, theirs)
      }
    })
  )

  it.live("keeps the effect's FiberRef changes when it succeeds in time, as Effect.timeoutFail does", () =>
    Effect.gen(function* () {
      for (const timed of [within(1_000), reference(1_000)]) {
        const ref = FiberRef.unsafeMake(0)
        yield* FiberRef.set(ref, 1).pipe(timed)
        assert.strictEqual(yield* FiberRef.get(ref), 1)
      }
    })
  )

  it.live("interrupts the effect at the deadline and awaits it before failing", () =>
    Effect.gen(function* () {
      const interrupted = yield* Ref.make(false)
      const started = Date.now()
      const exit = yield* Effect.exit(hangs(interrupted).pipe(within(50)))
      assert.deepStrictEqual(exit, Exit.fail(timedOut))
      assert.isTrue(yield* Ref.get(interrupted))
      assert.isAtLeast(Date.now() - started, 45)
    })
  )

  it.live("interrupts the effect at once when the caller is interrupted", () =>
    Effect.gen(function* () {
      const interrupted = yield* Ref.make(false)
      const running = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Deferred.succeed(running, undefined).pipe(Effect.zipRight(hangs(interrupted)), within(60_000))
      )
      yield* Deferred.await(running)
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause))
      assert.isTrue(yield* Ref.get(interrupted))
    })
  )

  it.effect("follows the TestClock (Effect.timeoutFail under any clock but the live one)", () =>
    Effect.gen(function* () {
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.fork(hangs(interrupted).pipe(within(30_000)))
      yield* TestClock.adjust(Duration.seconds(29))
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust(Duration.seconds(1))
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail(timedOut))
      assert.isTrue(yield* Ref.get(interrupted))
    })
  )

  it.live("never fires for a delay longer than timers accept, like the live clock", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(Effect.delay(Effect.succeed(1), Duration.millis(20)).pipe(within(2 ** 31)))
      assert.deepStrictEqual(exit, Exit.succeed(1))
    })
  )
})

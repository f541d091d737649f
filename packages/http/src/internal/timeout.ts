/**
 * The per-attempt timeout: `Effect.timeoutFail`'s meaning with one forked fiber instead of two.
 *
 * `Effect.timeoutFail` races the effect against `Effect.sleep` in two child fibers, which makes it the
 * largest single cost of a successful call (profiled: more than decoding the response). On the live
 * clock this runs the effect in one child fiber and keeps the deadline as a timer, exactly as the live
 * clock's own `sleep` does (`setTimeout`, and a delay too long for a timer never fires). Under any
 * other clock (`TestClock`, a custom one) it is `Effect.timeoutFail` itself, so tests that move time
 * keep working.
 *
 * As with `Effect.timeoutFail`: the effect runs interruptibly in a child fiber; its success (with the
 * child's `FiberRef` changes) or failure is the result if it comes first; at the deadline the child is
 * interrupted, and awaited, before the timeout error is the result. Interrupting the caller interrupts
 * the child at once.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

const liveClock: unknown = Object.getPrototypeOf(Clock.make())

// The live clock's scheduler treats a delay beyond what timers accept as infinite.
const maxTimerMillis = 2 ** 31 - 1

export const timeoutFail =
  <E2>(duration: Duration.Duration, onTimeout: () => E2) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> => {
    const millis = Duration.toMillis(duration)
    const reference = Effect.timeoutFail(self, { duration, onTimeout })
    if (!(millis <= maxTimerMillis)) return reference
    const timed = Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(self)), (fiber) =>
        Effect.async<A, E | E2>((resume) => {
          let settled = false
          const timer = setTimeout(() => {
            if (settled) return
            settled = true
            resume(Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(onTimeout())))
          }, millis)
          fiber.addObserver((exit) => {
            if (settled) return
            settled = true
            clearTimeout(timer)
            resume(exit._tag === "Success" ? Effect.zipRight(fiber.inheritAll, exit) : exit)
          })
          // The caller was interrupted while waiting.
          return Effect.suspend(() => {
            settled = true
            clearTimeout(timer)
            return Fiber.interrupt(fiber)
          })
        })
      )
    )
    return Effect.clockWith((clock) => (Object.getPrototypeOf(clock) === liveClock ? timed : reference))
  }

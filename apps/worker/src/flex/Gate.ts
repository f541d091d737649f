/**
 * Graceful stop: once a stop begins, no new API call goes out, and the calls already on the wire get a
 * bounded time to finish.
 *
 * Workflows in progress would otherwise go on to their next call during the engine's shutdown (a read
 * after a backoff, the next cancel attempt). The gate sits where every request leaves the process (the
 * client's `beforeAttempt`), so nothing is sent after the stop began; a gated call simply never
 * finishes, its activity is cut off by the engine's shutdown and runs again (reading first) on the
 * next start, exactly as after a crash.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"

export interface Service {
  /** Passes at once, or, once a stop has begun, never. */
  readonly gate: Effect.Effect<void>
  /** Counts `effect` as a call in flight while it runs. */
  readonly track: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Begins the stop and waits, at most `deadline`, until no call is on the wire. */
  readonly drain: (deadline: Duration.DurationInput) => Effect.Effect<void>
}

export class Gate extends Context.Tag("@flex/worker/Gate")<Gate, Service>() {}

/**
 * The gate closes the moment SIGINT or SIGTERM arrives (a listener of its own, synchronous), not when
 * the interruption that follows has made its way down to the batch: meanwhile fibers would send.
 */
export const make: Effect.Effect<Service, never, Scope.Scope> = Effect.gen(function* () {
  let draining = false
  const stop = () => {
    draining = true
  }
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      process.on("SIGINT", stop)
      process.on("SIGTERM", stop)
    }),
    () =>
      Effect.sync(() => {
        process.off("SIGINT", stop)
        process.off("SIGTERM", stop)
      })
  )
  // Calls inside `track`, and those of them held at the gate: the difference is on the wire.
  let active = 0
  let held = 0
  const gate = Effect.suspend(() =>
    draining
      ? Effect.sync(() => {
          held++
        }).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              held--
            })
          )
        )
      : Effect.void
  )
  const track = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        active++
      }),
      () => effect,
      () =>
        Effect.sync(() => {
          active--
        })
    )
  const drain = (deadline: Duration.DurationInput) =>
    Effect.sync(() => {
      draining = true
    }).pipe(
      Effect.zipRight(
        Effect.repeat(
          Effect.sync(() => active - held),
          { schedule: Schedule.spaced(Duration.millis(20)), until: (onTheWire) => onTheWire <= 0 }
        )
      ),
      // Called from a finalizer, which is uninterruptible: the wait must be interruptible again, or the
      // timeout could not stop it and a hanging call would hold the exit until its own timeout.
      Effect.interruptible,
      Effect.timeoutOption(deadline),
      Effect.asVoid
    )
  return { gate, track, drain }
})

export const layer: Layer.Layer<Gate> = Layer.scoped(Gate, make)

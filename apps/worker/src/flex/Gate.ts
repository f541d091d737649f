/**
 * Graceful stop: once a stop begins, no new API call goes out, and the calls already on the wire get a
 * bounded time to finish.
 *
 * Workflows in progress would otherwise go on to their next call during the engine's shutdown (a read
 * after a backoff, the next cancel attempt). The gate sits where every request leaves the process (the
 * client's `beforeAttempt`), so nothing is sent after the stop began; a gated call simply never
 * finishes, its activity is cut off by the engine's shutdown and runs again (reading first) on the
 * next start, exactly as after a crash.
 *
 * The gate also closes for good when Flex refuses the API key (401/403): such an answer says nothing
 * about the intent, so it is no outcome. The first one stops every further call, the request that got
 * it stays pending (its activity waits at the gate until the process stops, and runs again, reading
 * first, on the next start), and the batch or `serve` learns the reason from {@link Service.rejected}.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"

export interface Service {
  /** Passes at once, or, once a stop has begun or the key was refused, never. */
  readonly gate: Effect.Effect<void>
  /** Closes the gate for good: Flex refused the key (`reason` says how; it never holds the key). */
  readonly reject: (reason: string) => Effect.Effect<void>
  /** Waits until the key is refused, with the reason of the first refusal. */
  readonly rejected: Effect.Effect<string>
  /** The reason, once the key was refused. */
  readonly rejection: Effect.Effect<Option.Option<string>>
  /** Counts `effect` as a call in flight while it runs. */
  readonly track: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Begins the stop and waits, at most `deadline`, until no call is on the wire. */
  readonly drain: (deadline: Duration.DurationInput) => Effect.Effect<void>
  /**
   * Runs `effect`; interrupted, it first drains (the calls on the wire get until `deadline`) and only
   * then passes the interruption on. Without it a stop would cut the calls it means to wait for: the
   * workflow engines interrupt an execution's running activity when its caller is interrupted.
   */
  readonly shield: <A, E, R>(effect: Effect.Effect<A, E, R>, deadline: Duration.DurationInput) => Effect.Effect<A, E, R>
}

/** Flex refused the API key: the run stops, every request without an outcome stays pending. */
export class KeyRejected extends Data.TaggedError("KeyRejected")<{
  readonly reason: string
  readonly pending: number
}> {
  override get message(): string {
    return `${this.reason}. No further calls were made; ${this.pending} request${this.pending === 1 ? " is" : "s are"} still pending (no outcome recorded). Fix FLEX_API_KEY and run again: the next run finishes them.`
  }
}

export class Gate extends Context.Tag("@flex/worker/Gate")<Gate, Service>() {}

/**
 * The gate closes the moment SIGINT or SIGTERM arrives (a listener of its own, synchronous), not when
 * the interruption that follows has made its way down to the batch: meanwhile fibers would send.
 */
export const make: Effect.Effect<Service, never, Scope.Scope> = Effect.gen(function* () {
  let draining = false
  // Said in the same synchronous step that closes the gate: once an operator (or a test) reads the
  // line, no call can leave any more, whatever the load.
  const stop = (signal: NodeJS.Signals) => {
    if (!draining) {
      process.stderr.write(`flex-worker: ${signal}: stopping; no new calls go to Flex, waiting for those on the wire\n`)
    }
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
  const refused = yield* Deferred.make<string>()
  let closed = false
  const reject = (reason: string) =>
    Effect.zipRight(
      Effect.sync(() => {
        closed = true
      }),
      Deferred.succeed(refused, reason)
    )
  // Calls inside `track`, and those of them held at the gate: the difference is on the wire.
  let active = 0
  let held = 0
  const gate = Effect.suspend(() =>
    draining || closed
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
  const untrack = Effect.sync(() => {
    active--
  })
  // The count up and, whatever the end, down again; uninterruptible in between, so that they pair.
  const track = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        active++
        return Effect.ensuring(restore(effect), untrack)
      })
    )
  let leftBehind = false
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
      Effect.flatMap((drained) =>
        drained._tag === "Some" || leftBehind
          ? Effect.void
          : Effect.sync(() => {
              leftBehind = true
              const left = active - held
              process.stderr.write(
                `flex-worker: ${left} call${left === 1 ? "" : "s"} still unanswered after ${Duration.format(deadline)}: left behind; their requests stay pending and read first on the next start\n`
              )
            })
      )
    )
  const shield = <A, E, R>(effect: Effect.Effect<A, E, R>, deadline: Duration.DurationInput) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(effect)), (fiber) =>
        restore(Fiber.join(fiber)).pipe(
          Effect.onInterrupt(() => Effect.zipRight(drain(deadline), Fiber.interrupt(fiber)))
        )
      )
    )
  return {
    gate,
    track,
    drain,
    shield,
    reject,
    rejected: Deferred.await(refused),
    rejection: Deferred.poll(refused).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: Effect.asSome }))
    )
  }
})

export const layer: Layer.Layer<Gate> = Layer.scoped(Gate, make)

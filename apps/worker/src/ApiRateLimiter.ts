/**
 * The client-side limit on Flex API calls, shared by every in-flight request of this process.
 *
 * Calls are spaced evenly, `1 / rate` apart (a token bucket of size one), rather than let through in
 * bursts: a bucket that starts full lets `2 × rate` calls through in the first second, and the point is
 * that Flex never sees more than `rate` calls in any one-second window.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"

export interface Service {
  /** Waits for the next free slot. */
  readonly take: Effect.Effect<void>
  readonly rate: number
}

export class ApiRateLimiter extends Context.Tag("@flex/worker/ApiRateLimiter")<ApiRateLimiter, Service>() {}

export const waits = Metric.counter("flex_worker_rate_limiter_waits_total", {
  description: "API calls that had to wait for the client-side rate limiter"
})

/** `rate` calls per second; `Infinity` (or 0) disables the limit. */
export const make = (rate: number): Effect.Effect<Service> =>
  Effect.sync(() => {
    if (!Number.isFinite(rate) || rate <= 0) return { take: Effect.void, rate: Number.POSITIVE_INFINITY }
    const spacing = 1000 / rate
    let next = 0
    // Reserving the slot is synchronous, so concurrent fibers never get the same one.
    const take = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const slot = Math.max(now, next)
      next = slot + spacing
      const wait = slot - now
      return wait <= 0 ? Effect.void : Effect.zipRight(Metric.increment(waits), Effect.sleep(Duration.millis(wait)))
    })
    return { take, rate }
  })

export const layer = (rate: number): Layer.Layer<ApiRateLimiter> => Layer.effect(ApiRateLimiter, make(rate))

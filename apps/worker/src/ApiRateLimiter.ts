/**
 * The client-side limit on Flex API calls, shared by every in-flight request of this process.
 *
 * Calls are spaced evenly, `1 / rate` apart (a token bucket of size one), rather than let through in
 * bursts: a bucket that starts full lets `2 × rate` calls through in the first second, and the point is
 * that Flex never sees more than `rate` calls in any one-second window.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
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

/**
 * The same spacing, shared by every runner of a cluster through one PostgreSQL row: each call takes
 * the next slot with one `UPDATE … RETURNING`, timed by the database's clock, so the limit holds for
 * all runners together whatever their number and whatever their clocks say. The row lock serialises
 * the slot-taking only, not the calls; at 100 req/s that is 100 single-row updates a second.
 */
export const makeShared = (rate: number, name = "flex-api"): Effect.Effect<Service, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    if (!Number.isFinite(rate) || rate <= 0) return { take: Effect.void, rate: Number.POSITIVE_INFINITY }
    const sql = yield* SqlClient.SqlClient
    const spacing = 1 / rate
    yield* sql`CREATE TABLE IF NOT EXISTS flex_worker_rate_limiter (
      name TEXT PRIMARY KEY,
      next_slot TIMESTAMPTZ NOT NULL
    )`
    yield* sql`INSERT INTO flex_worker_rate_limiter (name, next_slot) VALUES (${name}, clock_timestamp())
      ON CONFLICT (name) DO NOTHING`
    const take = Effect.flatMap(
      Effect.orDie(
        sql<{ wait_ms: number | string }>`UPDATE flex_worker_rate_limiter
          SET next_slot = GREATEST(next_slot, clock_timestamp()) + make_interval(secs => ${spacing})
          WHERE name = ${name}
          RETURNING EXTRACT(EPOCH FROM (next_slot - make_interval(secs => ${spacing}) - clock_timestamp())) * 1000 AS wait_ms`
      ),
      (rows) => {
        const wait = Number(rows[0]?.wait_ms ?? 0)
        return wait <= 0 ? Effect.void : Effect.zipRight(Metric.increment(waits), Effect.sleep(Duration.millis(wait)))
      }
    )
    return { take, rate }
  })

export const layerShared = (rate: number): Layer.Layer<ApiRateLimiter, SqlError, SqlClient.SqlClient> =>
  Layer.effect(ApiRateLimiter, makeShared(rate))

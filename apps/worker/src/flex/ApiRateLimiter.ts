/**
 * The client-side limit on Flex API calls, shared by every in-flight request of this process.
 *
 * Calls are spaced evenly, `1 / rate` apart (a token bucket of size one), rather than let through in
 * bursts: a bucket that starts full lets `2 × rate` calls through in the first second, and the point is
 * that Flex never sees more than `rate` calls in any one-second window.
 *
 * A slot is taken when the call goes out, not when the caller starts waiting. Reserving slots ahead
 * and sleeping until each one is what the first version did, and an event-loop stall (a synchronous
 * SQLite busy wait, a loaded machine) then released at once every call whose slot had passed meanwhile:
 * 62 calls in one second at `--rate 50`. Now a stall releases one call, and the rest follow `1 / rate`
 * apart.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Metrics from "../core/Metrics.js"

export interface Service {
  /** Waits for the next free slot; returns as the call may go out. */
  readonly take: Effect.Effect<void>
  readonly rate: number
}

export class ApiRateLimiter extends Context.Tag("@flex/worker/ApiRateLimiter")<ApiRateLimiter, Service>() {}

export const waits = Metrics.rateLimiterWaits

interface Waiter {
  resume: (() => void) | undefined
  /** The turn has been handed to this waiter (it must hand it on if it gives up). */
  handed: boolean
}

/**
 * `rate` calls per second; `Infinity` (or 0) disables the limit.
 *
 * Callers queue for a turn in arrival order (FIFO). Only the caller whose turn it is watches the clock:
 * it takes the slot once `now ≥ next` (then `next` moves on by a spacing) and hands the turn to the next in
 * line, which sleeps `next − now`. The others are parked, not sleeping, so no herd of fibers wakes at
 * the same moment and races for one slot, and whatever the fibers' timers did during a stall, at most
 * one call goes out per spacing after it.
 */
export const make = (rate: number): Effect.Effect<Service> =>
  Effect.sync(() => {
    if (!Number.isFinite(rate) || rate <= 0) return { take: Effect.void, rate: Number.POSITIVE_INFINITY }
    const spacing = 1000 / rate
    let next = 0
    let turnTaken = false
    // The line, oldest first from `head` (an index, so that taking the first is O(1) with thousands waiting).
    let queue: Array<Waiter | undefined> = []
    let head = 0

    const handOn = () => {
      const waiter = queue[head]
      if (waiter === undefined) {
        turnTaken = false
        queue = []
        head = 0
        return
      }
      queue[head++] = undefined
      if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head)
        head = 0
      }
      waiter.handed = true
      waiter.resume?.()
    }

    /** Waits for this caller's turn; true when it had to queue for it. */
    const awaitTurn = (waiter: Waiter): Effect.Effect<boolean> =>
      Effect.suspend(() => {
        if (!turnTaken) {
          turnTaken = true
          waiter.handed = true
          return Effect.succeed(false)
        }
        queue.push(waiter)
        return Effect.async<boolean>((resume) => {
          if (waiter.handed) return resume(Effect.succeed(true))
          waiter.resume = () => resume(Effect.succeed(true))
        })
      })

    /**
     * With the turn: takes the slot as soon as it is due (checking the clock again after every sleep).
     * A call that goes out late keeps its slot on the grid if it is at most half a spacing late: a
     * timer always fires a little after its time, and counting from the moment it fired instead would
     * add that lag to every spacing (65 calls/s at `--rate 100` on a busy machine). Later than that
     * (a stall), the grid starts again half a spacing back. Every call thus goes out within half a
     * spacing of its slot, slots stay a spacing apart, and no one-second window holds more than
     * `rate + 1` calls.
     */
    const slot: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (now >= next) {
        next = Math.max(next, now - spacing / 2) + spacing
        return Effect.void
      }
      return Effect.zipRight(Effect.sleep(Duration.millis(next - now)), slot)
    })

    const take = Effect.uninterruptibleMask((restore) => {
      const waiter: Waiter = { resume: undefined, handed: false }
      return restore(awaitTurn(waiter)).pipe(
        // Interrupted in the line: leave it, or hand on a turn that reached us meanwhile.
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            if (waiter.handed) handOn()
            else {
              const at = queue.indexOf(waiter, head)
              if (at >= 0) queue.splice(at, 1)
            }
          })
        ),
        Effect.flatMap((queued) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            queued || now < next ? Metric.increment(waits) : Effect.void
          ).pipe(Effect.zipRight(restore(slot)), Effect.ensuring(Effect.sync(handOn)))
        )
      )
    })
    return { take, rate }
  })

export const layer = (rate: number): Layer.Layer<ApiRateLimiter> => Layer.effect(ApiRateLimiter, make(rate))

/**
 * The same spacing, shared by every runner of a cluster through one PostgreSQL row: each call takes
 * the next slot with one `UPDATE … RETURNING`, timed by the database's clock, so the limit holds for
 * all runners together whatever their number and whatever their clocks say. The row lock serialises
 * the slot-taking only, not the calls; at 100 req/s that is 100 single-row updates a second.
 *
 * Here a slot is reserved ahead (taking it only when due would cost one update per waiting caller per
 * slot, across every runner), so a stall can still make a call late. A late call is what bunches: it
 * goes out on top of the calls whose slots came after its own. So a call that goes out more than
 * {@link lateness} after its slot gives the slot up and takes a new one. The slot's local time is
 * known within the round trip of the update: it is `wait` after the database evaluated it, which was
 * no earlier than `sent + queued` (`queued`: how long the update waited in the database, for the row
 * lock, say) and no later than `received`. The call sleeps to the latest of these and judges its
 * lateness from the earliest, so a stall anywhere (during the round trip, or during the sleep) counts.
 * Every call therefore goes out within {@link lateness} of its slot: any one-second window sees at most
 * `rate + 1 + rate × lateness / 1 s` calls from the cluster, even while runners stall. A slot given up
 * is lost (fewer calls, never more); after {@link maxTakes} slots a call goes out on the last one
 * however late, so a database that is persistently slower to answer than {@link lateness} slows the
 * calls down rather than stopping them.
 */
export const makeShared = (rate: number, name = "flex-api"): Effect.Effect<Service, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    if (!Number.isFinite(rate) || rate <= 0) return { take: Effect.void, rate: Number.POSITIVE_INFINITY }
    const sql = yield* SqlClient.SqlClient
    const spacing = 1 / rate
    const allowed = lateness(rate)
    yield* sql`CREATE TABLE IF NOT EXISTS flex_worker_rate_limiter (
      name TEXT PRIMARY KEY,
      next_slot TIMESTAMPTZ NOT NULL
    )`
    yield* sql`INSERT INTO flex_worker_rate_limiter (name, next_slot) VALUES (${name}, clock_timestamp())
      ON CONFLICT (name) DO NOTHING`
    const reserve = Effect.orDie(
      sql<{ wait_ms: number | string; queued_ms: number | string }>`UPDATE flex_worker_rate_limiter
        SET next_slot = GREATEST(next_slot, clock_timestamp()) + make_interval(secs => ${spacing})
        WHERE name = ${name}
        RETURNING
          EXTRACT(EPOCH FROM (next_slot - make_interval(secs => ${spacing}) - clock_timestamp())) * 1000 AS wait_ms,
          EXTRACT(EPOCH FROM (clock_timestamp() - statement_timestamp())) * 1000 AS queued_ms`
    )
    /** Takes a slot and waits for it; true when the call went out within `allowed` of it. */
    const takeOne = (attempt: number): Effect.Effect<void> =>
      Effect.gen(function* () {
        const sent = yield* Clock.currentTimeMillis
        const rows = yield* reserve
        const received = yield* Clock.currentTimeMillis
        const wait = Number(rows[0]?.wait_ms ?? 0)
        const queued = Math.max(0, Number(rows[0]?.queued_ms ?? 0))
        if (wait > 0) {
          if (attempt === 1) yield* Metric.increment(waits)
          yield* Effect.sleep(Duration.millis(wait))
        }
        const late = (yield* Clock.currentTimeMillis) - (Math.min(sent + queued, received) + wait)
        if (late > allowed && attempt < maxTakes) return yield* takeOne(attempt + 1)
      })
    return { take: takeOne(1), rate }
  })

/** How late a call of the shared limiter may go out after its slot: one spacing, and at least 50 ms. */
export const lateness = (rate: number): number => Math.max(1000 / rate, 50)

/** The most slots one call of the shared limiter takes before it goes out however late. */
export const maxTakes = 3

export const layerShared = (rate: number): Layer.Layer<ApiRateLimiter, SqlError, SqlClient.SqlClient> =>
  Layer.effect(ApiRateLimiter, makeShared(rate))

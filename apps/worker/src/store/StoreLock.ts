/**
 * Locks on a SQLite store: ours, one process per store, enforced by the operating system; and another
 * process's, waited out.
 *
 * The embedded engine assumes it is the only runner on its file: a second process would take every
 * shard too and run the same workflows twice. So the worker holds an exclusive SQLite lock (a POSIX
 * file lock) on `<store>.lock` for as long as it runs. The kernel drops the lock when the process
 * dies, even by kill -9, so a crash never leaves a stale lock behind.
 *
 * Any other process may still open the store itself (`sqlite3`, a script) and hold its write lock for a
 * while. {@link client} waits for it without blocking the event loop, and past a limit fails with
 * {@link StoreUnavailable} instead of a driver error.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import Database from "better-sqlite3"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as SqliteClient from "./SqliteClient.js"

export class StoreLocked extends Data.TaggedError("StoreLocked")<{ readonly store: string }> {
  override get message(): string {
    return `Another flex-worker is already using the store ${this.store}. Run one worker per store (stop the other one, or pass --store to use another file).`
  }
}

export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly store: string
  readonly reason: string
}> {
  override get message(): string {
    return `Cannot use the store ${this.store}: ${this.reason}`
  }
}

export const acquire = (store: string): Effect.Effect<void, StoreLocked | StoreUnavailable, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        const db = new Database(`${store}.lock`, { timeout: 0 })
        try {
          db.exec("BEGIN EXCLUSIVE")
          return db
        } catch (error) {
          db.close()
          throw error
        }
      },
      catch: (error) =>
        (error as { code?: string }).code === "SQLITE_BUSY"
          ? new StoreLocked({ store })
          : new StoreUnavailable({
              store,
              reason: `cannot open its lock file ${store}.lock (${(error as Error).message})`
            })
    }),
    (db) => Effect.sync(() => db.close())
  ).pipe(Effect.asVoid)

/**
 * SQLite's answer when another connection holds the lock a statement needs. Not `SQLITE_BUSY_SNAPSHOT`:
 * retrying the statement cannot help a transaction whose snapshot is stale (and `BEGIN IMMEDIATE`
 * transactions never have one).
 */
const busyCodes = new Set(["SQLITE_BUSY", "SQLITE_BUSY_RECOVERY", "SQLITE_BUSY_TIMEOUT"])

/** Whether a statement failed because another connection holds the lock it needs. */
export const isBusy = (error: SqlError): boolean => busyCodes.has((error.cause as { code?: unknown })?.code as string)

/**
 * How long SQLite's own busy handler may wait, per statement. better-sqlite3's default (5 s) sleeps in
 * the driver, which stops the whole process; past this the wait goes on asynchronously (`waitOut`).
 */
const busyTimeoutMillis = 20

/** The default of {@link ClientOptions.waitFor}. */
export const defaultWaitFor = Duration.seconds(60)

/**
 * Makes the patience of a client on `store`: a statement that meets another process's lock is retried
 * with asynchronous sleeps (10 ms doubling to 100 ms, jittered) for up to `waitFor`, then fails with a
 * `SqlError` caused by {@link StoreUnavailable}. Once one has given up, the others fail at once until a
 * statement gets through again: the process is on its way out, and its finalizers should not wait in
 * turn.
 */
export const waitOut = (store: string, waitFor: Duration.DurationInput): SqliteClient.Patience => {
  let gaveUp = false
  const schedule = Schedule.exponential("10 millis").pipe(
    Schedule.union(Schedule.spaced("100 millis")),
    Schedule.jittered,
    Schedule.upTo(waitFor)
  )
  const unavailable = new StoreUnavailable({
    store,
    reason: `it is locked by another process (waited ${Duration.format(waitFor)})`
  })
  const givenUp = (error: SqlError) =>
    isBusy(error) ? new SqlError({ message: "the store is locked by another process", cause: unavailable }) : error
  const patiently = <A>(effect: Effect.Effect<A, SqlError>) =>
    Effect.retry(effect, { while: isBusy, schedule }).pipe(
      Effect.tapError((error) =>
        Effect.sync(() => {
          gaveUp = isBusy(error)
        })
      ),
      Effect.mapError(givenUp)
    )
  return {
    // One continuation in the usual case: the retry is set up only once a statement meets a lock.
    wait: <A>(effect: Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> =>
      Effect.matchEffect(effect, {
        onFailure: (error) =>
          !isBusy(error) ? Effect.fail(error) : gaveUp ? Effect.fail(givenUp(error)) : patiently(effect),
        onSuccess: (a) => {
          gaveUp = false
          return Effect.succeed(a)
        }
      }),
    waits: isBusy,
    passed: () => {
      gaveUp = false
    }
  }
}

export interface ClientOptions {
  /** How long a statement waits for another process's lock on the store before it fails (default 60 s). */
  readonly waitFor?: Duration.DurationInput | undefined
}

/**
 * The SQL client on a store, for everything on it (the engine's tables and the worker's own): the
 * worker's {@link SqliteClient}, whose fast path the hot statements take.
 *
 * Transactions begin `IMMEDIATE`: they take the write lock at `BEGIN`, where waiting for it is safe. A
 * deferred one that reads first is refused at its first write, without any wait, while another process
 * holds the lock, and the engine's transactions read before they write. Every statement (`BEGIN` and
 * `COMMIT` included) waits a lock out with {@link waitOut}, holding the connection meanwhile so the
 * other fibers queue on it rather than retry all at once; a statement of the fast path that meets the
 * lock does nothing, and is run again that way.
 */
export const client = (
  store: string,
  options: ClientOptions = {}
): Layer.Layer<SqlClient.SqlClient | SqliteClient.SqliteClient, SqlError> =>
  // Made when the layer is built: each client gives up on its own.
  Layer.suspend(() =>
    SqliteClient.layer({
      filename: store,
      busyTimeout: Duration.millis(busyTimeoutMillis),
      beginTransaction: "BEGIN IMMEDIATE",
      patience: waitOut(store, options.waitFor ?? defaultWaitFor)
    })
  )

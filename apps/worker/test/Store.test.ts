/**
 * The store on its real databases: a SQLite file and a PostgreSQL database (one contract for both);
 * and on SQLite, another process holding the file's write lock while the worker writes.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Context, Effect, Fiber, Layer, Option, Redacted, Stream } from "effect"
import type * as ConfigError from "effect/ConfigError"
import type * as Scope from "effect/Scope"
import * as Batch from "../src/cli/Batch.js"
import * as CancelRequest from "../src/core/CancelRequest.js"
import * as Outcome from "../src/core/Outcome.js"
import * as StoreModule from "../src/store/Store.js"
import { Store } from "../src/store/Store.js"
import * as StoreLock from "../src/store/StoreLock.js"
import { tempStore, workerLayer } from "./support/harness.js"
import * as Pg from "./support/pg.js"
import * as Process from "./support/process.js"

const intent = (n: number) => `fpi_01J9M9S346Q3D25VT4F5V37${String(n).padStart(3, "0")}`
const request = (requestId: string, n: number): CancelRequest.CancelRequest => ({
  ...CancelRequest.make(intent(n)),
  requestId
})

const contract = (
  database: string,
  client: Effect.Effect<Layer.Layer<SqlClient.SqlClient, ConfigError.ConfigError | SqlError>, never, Scope.Scope>
) =>
  describe(`the store on ${database}`, () => {
    it.scoped("a body with a conflicting request id stores none of its requests", () =>
      Effect.gen(function* () {
        const store = Context.get(yield* Layer.build(StoreModule.layer.pipe(Layer.provide(yield* client))), Store)
        const first = yield* store.submit([request("order-1", 1)])
        assert.deepStrictEqual(
          first.map((r) => r._tag),
          ["New"]
        )
        // New requests before and after the conflict, and a known one: all refused together.
        const refused = yield* store.submit([
          request("order-2", 2),
          request("order-1", 9),
          request("order-1", 1),
          request("order-3", 3)
        ])
        assert.deepStrictEqual(
          refused.map((r) => [r._tag, r.request.requestId]),
          [["Conflict", "order-1"]]
        )
        assert.isTrue(Option.isNone(yield* store.get("order-2")))
        assert.isTrue(Option.isNone(yield* store.get("order-3")))
        assert.deepStrictEqual(yield* store.counts, { requests: 1, outcomes: 0 })
        // Two ids of one body naming different intents conflict with each other: nothing stored either.
        const within = yield* store.submit([request("order-4", 4), request("order-4", 5)])
        assert.deepStrictEqual(
          within.map((r) => r._tag),
          ["Conflict"]
        )
        assert.isTrue(Option.isNone(yield* store.get("order-4")))
        // Without the conflict, the same body is stored whole.
        const stored = yield* store.submit([request("order-2", 2), request("order-1", 1), request("order-3", 3)])
        assert.deepStrictEqual(
          stored.map((r) => r._tag),
          ["New", "Existing", "New"]
        )
        assert.deepStrictEqual(yield* store.counts, { requests: 3, outcomes: 0 })
      })
    )

    it.scoped("a store's id is made once and kept; a store that sent cancels before ids existed keeps its keys", () =>
      Effect.gen(function* () {
        const layer = yield* client
        const open = Effect.map(Layer.build(StoreModule.layer.pipe(Layer.provide(layer))), (c) => Context.get(c, Store))
        const first = yield* Effect.scoped(open)
        assert.match(first.id ?? "", /^[0-9a-f]{32}$/)
        const again = yield* Effect.scoped(open)
        assert.strictEqual(again.id, first.id, "the same store, the same id")
        // A store made by 0.1: attempts recorded, no id table yet.
        const legacy = yield* client
        const old = yield* Effect.scoped(
          Effect.gen(function* () {
            const sql = Context.get(yield* Layer.build(legacy), SqlClient.SqlClient)
            yield* StoreModule.migrate.pipe(Effect.provideService(SqlClient.SqlClient, sql))
            yield* sql`DROP TABLE flex_worker_store`
            yield* sql`INSERT INTO cancellation_attempts (request_id, generation, attempt, started_at, session)
              VALUES ('cancel_x', 0, 1, '2026-01-01T00:00:00Z', 'old')`
            return Context.get(yield* Layer.build(StoreModule.layer.pipe(Layer.provide(legacy))), Store)
          })
        )
        assert.isUndefined(old.id, "its requests keep the keys their cancels were sent with")
      })
    )
  })

contract(
  "a SQLite file",
  Effect.map(tempStore, (filename) => StoreLock.client(filename))
)

if (Pg.url !== undefined) {
  contract(
    "PostgreSQL",
    Effect.map(Pg.freshDatabase, (db) => PgClient.layer({ url: Redacted.make(db.url) }))
  )
} else {
  describe("the store on PostgreSQL", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}

/** A process holding the store's lock for `ms`, killed with the test's scope. */
const foreignLock = (file: string, ms: number) =>
  Effect.acquireRelease(Process.lockSqlite(file, ms), (lock) => Effect.sync(() => lock.child.kill()))

/** The longest the event loop went without running a 10 ms timer, from now until `stop`. */
const loopLag = () => {
  let last = Date.now()
  let max = 0
  const timer = setInterval(() => {
    const now = Date.now()
    max = Math.max(max, now - last - 10)
    last = now
  }, 10)
  return {
    stop: () => {
      clearInterval(timer)
      return max
    }
  }
}

const sqliteStore = (file: string, options?: StoreLock.ClientOptions) =>
  Effect.map(Layer.build(StoreModule.layer.pipe(Layer.provide(StoreLock.client(file, options)))), (context) =>
    Context.get(context, Store)
  )

describe("the SQLite store locked by another process", () => {
  it.scopedLive("a 2 s lock during every kind of write is waited out: no failure, nothing lost, the loop free", () =>
    Effect.gen(function* () {
      const file = yield* tempStore
      const store = yield* sqliteStore(file)
      const requests = Array.from({ length: 200 }, (_, i) => CancelRequest.make(intent(i)))
      const lock = yield* foreignLock(file, 2000)
      const lag = loopLag()
      // Transactions that read before they write (intake, submit; SQLite refuses those at once under a
      // deferred BEGIN), and single-statement writes (accept, markAttempt, record), all at once.
      yield* Effect.all(
        [
          Effect.zipRight(
            store.intake(requests.slice(0, 100), "batch-1", false),
            Effect.forEach(
              requests.slice(0, 50),
              (r) =>
                store.record(
                  r.requestId,
                  new Outcome.NotFound({ paymentIntentId: r.paymentIntentId, attempts: 0, apiCalls: 1 })
                ),
              { concurrency: 10 }
            )
          ),
          store.submit(requests.slice(100, 150)),
          Effect.forEach(requests.slice(150), (r) => store.accept(r), { concurrency: 10 }),
          Effect.forEach(requests.slice(0, 50), (r) => store.markAttempt(r.requestId, 0, 1, "session-1"), {
            concurrency: 10
          })
        ],
        { concurrency: "unbounded" }
      )
      const done = Date.now()
      const maxLag = lag.stop()
      const releasedAt = yield* Effect.promise(() => lock.released)
      assert.isAtLeast(done - lock.lockedAt, 1500, "the writes waited for the lock")
      assert.isAtMost(done - releasedAt, 1000, "and went on soon after it was let go")
      // better-sqlite3's own busy wait (5 s by default) would stop the loop for the whole lock.
      assert.isBelow(maxLag, 1000, "the event loop kept running")
      assert.deepStrictEqual(yield* store.counts, { requests: 200, outcomes: 50 })
      for (const r of requests.slice(0, 50)) {
        assert.deepStrictEqual(yield* store.markAttempt(r.requestId, 0, 1, "session-1"), { rerun: true, resumed: true })
      }
    })
  )

  it.scopedLive("a 2 s lock mid-batch is waited out by the engine too: every request ends in its outcome", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 61 })
      const intents = yield* sandbox.createIntents(
        Array.from({ length: 60 }, () => ({ status: "requires_capture" as const }))
      )
      const file = yield* tempStore
      const inputs = Stream.fromIterable(
        intents.map((pi, i) => ({ _tag: "Intent" as const, line: i + 1, paymentIntentId: pi.payment_intent_id }))
      )
      const locker = yield* Effect.fork(
        Effect.gen(function* () {
          while ((yield* sandbox.calls).length < 15) yield* Effect.sleep("10 millis")
          const lock = yield* foreignLock(file, 2000)
          return { lockedAt: lock.lockedAt, releasedAt: yield* Effect.promise(() => lock.released) }
        }).pipe(Effect.scoped)
      )
      // From the start: a busy wait in the driver would stall the loop from the lock's first moment.
      const lag = loopLag()
      const report = yield* Batch.run(inputs, { concurrency: 8, retryGaveUp: false }).pipe(
        Effect.provide(workerLayer(sandbox, file, 40))
      )
      const done = Date.now()
      const maxLag = lag.stop()
      const { lockedAt, releasedAt } = yield* Fiber.join(locker)
      assert.isAbove(done, releasedAt, "the batch was still running when the lock was let go")
      assert.isAbove(releasedAt - lockedAt, 1900)
      assert.isBelow(maxLag, 1000, "the event loop kept running")
      assert.strictEqual(report.outcomes.Canceled, 60)
      const store = yield* sqliteStore(file)
      assert.deepStrictEqual(yield* store.counts, { requests: 60, outcomes: 60 })
    })
  )

  it.scopedLive("a lock held past the wait fails with StoreUnavailable, and the store works once it is gone", () =>
    Effect.gen(function* () {
      const file = yield* tempStore
      const store = yield* sqliteStore(file, { waitFor: "500 millis" })
      const lock = yield* foreignLock(file, 2500)
      let released = false
      lock.released.then(() => {
        released = true
      })
      const error = yield* Effect.flip(store.intake([CancelRequest.make(intent(1))], "batch-1", false))
      assert.isFalse(released, "it gave up after its wait, while the lock was still held")
      const cause = error.cause as StoreLock.StoreUnavailable
      assert.strictEqual(cause._tag, "StoreUnavailable")
      assert.strictEqual(cause.message, `Cannot use the store ${file}: it is locked by another process (waited 500ms)`)
      // Having given up once, the next write does not wait again while the lock stays.
      const before = Date.now()
      const again = yield* Effect.flip(store.accept(CancelRequest.make(intent(2))))
      assert.strictEqual((again.cause as StoreLock.StoreUnavailable)._tag, "StoreUnavailable")
      assert.isBelow(Date.now() - before, 300)
      yield* Effect.promise(() => lock.released)
      assert.deepStrictEqual(
        (yield* store.intake([CancelRequest.make(intent(1))], "batch-1", false)).map((r) => r._tag),
        ["Accepted"]
      )
    })
  )
})

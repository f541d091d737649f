/**
 * The worker's SQLite client on a real file: its fast path returns what `sql\`…\`` returns, never runs
 * inside a transaction another fiber has open, and fails with a typed `SqlError`; the rest of the
 * `SqlClient` (transactions, savepoints) works as `@effect/sql`'s.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteNode from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option } from "effect"
import * as SqliteClient from "../src/store/SqliteClient.js"
import { tempStore } from "./support/harness.js"

const open = (options: Partial<SqliteClient.Options> = {}) =>
  Effect.gen(function* () {
    const filename = yield* tempStore
    const sql = yield* SqliteClient.make({ filename, ...options }).pipe(Effect.provide(Reactivity.layer))
    yield* sql`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, size INTEGER, note TEXT)`
    return { sql, filename }
  })

/** The names in `items`, in order. */
const names = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ name: string }>`SELECT name FROM items ORDER BY name`, (rows) => rows.map((r) => r.name))

/** Lets every other fiber that can move, move. */
const yieldMany = Effect.forEach(Array.from({ length: 20 }), () => Effect.yieldNow(), { discard: true })

describe("SqliteClient", () => {
  it.scoped("the fast path returns what the statement itself returns", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      const insert = (name: string, size: number | null) =>
        sql<{ id: number; name: string }>`INSERT INTO items (name, size, note) VALUES (${name}, ${size}, ${null})
          RETURNING id, name`
      const fast = yield* sql.run(insert("a", 1))
      const slow = yield* insert("b", null)
      assert.deepStrictEqual(fast, [{ id: 1, name: "a" }])
      assert.deepStrictEqual(slow, [{ id: 2, name: "b" }])
      // A statement that returns no rows returns an empty array on both.
      assert.deepStrictEqual(yield* sql.run(sql`UPDATE items SET note = ${"x"} WHERE name = ${"a"}`), [])
      assert.deepStrictEqual(yield* sql`UPDATE items SET note = ${"y"} WHERE name = ${"b"}`, [])
      const select = sql`SELECT id, name, size, note FROM items ORDER BY id`
      const expected = [
        { id: 1, name: "a", size: 1, note: "x" },
        { id: 2, name: "b", size: null, note: "y" }
      ]
      assert.deepStrictEqual(yield* sql.run(select), expected)
      assert.deepStrictEqual(yield* select, expected)
      // The same statement text again (the prepared one), with other parameters.
      assert.deepStrictEqual(yield* sql.run(insert("c", 3)), [{ id: 3, name: "c" }])
    })
  )

  it.scoped("a statement of another fiber is not part of an open transaction: a rollback leaves it", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      const opened = yield* Deferred.make<void>()
      const fail = yield* Deferred.make<void>()
      const transaction = yield* Effect.fork(
        sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO items (name) VALUES ('in-transaction')`
            yield* Deferred.succeed(opened, undefined)
            yield* Deferred.await(fail)
            return yield* Effect.fail("rolled back")
          })
        )
      )
      yield* Deferred.await(opened)
      const fast = yield* Effect.fork(sql.run(sql`INSERT INTO items (name) VALUES ('fast')`))
      const slow = yield* Effect.fork(sql`INSERT INTO items (name) VALUES ('slow')`)
      yield* yieldMany
      // Both wait for the transaction's end.
      assert.isTrue(Option.isNone(yield* Fiber.poll(fast)), "the fast statement waits")
      assert.isTrue(Option.isNone(yield* Fiber.poll(slow)), "the plain statement waits")
      yield* Deferred.succeed(fail, undefined)
      assert.strictEqual(yield* Effect.flip(Fiber.join(transaction)), "rolled back")
      yield* Fiber.join(fast)
      yield* Fiber.join(slow)
      assert.deepStrictEqual(yield* names(sql), ["fast", "slow"])
    })
  )

  it.scoped("a statement of another fiber waits while the connection is reserved, even before BEGIN", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      const held = yield* Deferred.make<void>()
      const done = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        Effect.scoped(
          Effect.zipRight(sql.reserve, Effect.zipRight(Deferred.succeed(held, undefined), Deferred.await(done)))
        )
      )
      yield* Deferred.await(held)
      const fast = yield* Effect.fork(sql.run(sql`INSERT INTO items (name) VALUES ('fast')`))
      yield* yieldMany
      assert.isTrue(Option.isNone(yield* Fiber.poll(fast)))
      yield* Deferred.succeed(done, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(fast)
      assert.deepStrictEqual(yield* names(sql), ["fast"])
    })
  )

  it.scoped("inside its own transaction the fast path is part of it: committed with it, rolled back with it", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      yield* sql.withTransaction(sql.run(sql`INSERT INTO items (name) VALUES ('kept')`))
      const exit = yield* Effect.exit(
        sql.withTransaction(
          Effect.zipRight(sql.run(sql`INSERT INTO items (name) VALUES ('dropped')`), Effect.fail("no"))
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      // A savepoint: the inner rollback takes only its own statement.
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql.run(sql`INSERT INTO items (name) VALUES ('outer')`)
          yield* Effect.exit(
            sql.withTransaction(
              Effect.zipRight(sql.run(sql`INSERT INTO items (name) VALUES ('inner')`), Effect.fail("no"))
            )
          )
        })
      )
      assert.deepStrictEqual(yield* names(sql), ["kept", "outer"])
    })
  )

  it.scoped("errors are typed SqlError on both paths: at prepare and at execution", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      yield* sql`INSERT INTO items (name) VALUES ('a')`
      const missing = sql`SELECT * FROM nowhere`
      for (const error of [yield* Effect.flip(sql.run(missing)), yield* Effect.flip(missing)]) {
        assert.strictEqual(error._tag, "SqlError")
        assert.include(String(error.cause), "no such table")
      }
      const duplicate = () => sql`INSERT INTO items (name) VALUES ('a')`
      for (const error of [yield* Effect.flip(sql.run(duplicate())), yield* Effect.flip(duplicate())]) {
        assert.strictEqual(error._tag, "SqlError")
        assert.strictEqual((error.cause as { code?: string }).code, "SQLITE_CONSTRAINT_UNIQUE")
      }
      // Unprepared statements too (the stock client let `prepare` throw: a defect).
      const unprepared = yield* Effect.flip(sql`SELEC 1`.unprepared)
      assert.strictEqual(unprepared._tag, "SqlError")
    })
  )

  it.scoped("another process's lock: a failed BEGIN is the transaction's error, not a defect", () =>
    Effect.gen(function* () {
      const { filename, sql } = yield* open({ busyTimeout: "10 millis", beginTransaction: "BEGIN IMMEDIATE" })
      const other = new Database(filename)
      yield* Effect.addFinalizer(() => Effect.sync(() => other.close()))
      other.exec("BEGIN IMMEDIATE")
      const exit = yield* Effect.exit(sql.withTransaction(sql`INSERT INTO items (name) VALUES ('a')`))
      assert.isTrue(Exit.isFailure(exit) && !Cause.isDie(exit.cause), String(exit))
      const error = yield* Effect.flip(sql.run(sql`INSERT INTO items (name) VALUES ('b')`))
      assert.strictEqual((error.cause as { code?: string }).code, "SQLITE_BUSY")
      other.exec("ROLLBACK")
      yield* sql.withTransaction(sql`INSERT INTO items (name) VALUES ('c')`)
      assert.deepStrictEqual(yield* names(sql), ["c"])
    })
  )

  it.scoped("a fast statement that meets a lock is run again the patient way", () =>
    Effect.gen(function* () {
      let waited = 0
      let passed = 0
      const patience: SqliteClient.Patience = {
        wait: (effect) =>
          Effect.catchIf(
            effect,
            (error) => (error.cause as { code?: string }).code === "SQLITE_BUSY",
            () => {
              waited++
              other.exec("ROLLBACK")
              return effect
            }
          ),
        waits: (error) => (error.cause as { code?: string }).code === "SQLITE_BUSY",
        passed: () => {
          passed++
        }
      }
      const { filename, sql } = yield* open({ busyTimeout: "10 millis", patience })
      const other = new Database(filename)
      yield* Effect.addFinalizer(() => Effect.sync(() => other.close()))
      yield* sql.run(sql`INSERT INTO items (name) VALUES ('a')`)
      assert.strictEqual(passed, 1)
      other.exec("BEGIN IMMEDIATE")
      yield* sql.run(sql`INSERT INTO items (name) VALUES ('b')`)
      assert.deepStrictEqual([waited, passed], [1, 1])
      assert.deepStrictEqual(yield* names(sql), ["a", "b"])
    })
  )

  it.scoped("SafeIntegers on the fast path, for that statement only", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      yield* sql`INSERT INTO items (name, size) VALUES ('a', 9007199254740993)`
      const size = sql<{ size: unknown }>`SELECT size FROM items`
      const safe = yield* Effect.provideService(sql.run(size), SqlClient.SafeIntegers, true)
      assert.strictEqual(safe[0]!.size, 9007199254740993n)
      assert.strictEqual(typeof (yield* sql.run(size))[0]!.size, "number")
      assert.strictEqual(typeof (yield* size)[0]!.size, "number")
    })
  )

  it.scoped("a small prepare cache drops statements and prepares them again", () =>
    Effect.gen(function* () {
      const { sql } = yield* open({ prepareCacheSize: 2 })
      for (let i = 0; i < 5; i++) {
        yield* sql.run(sql`INSERT INTO items (name) VALUES (${`n${i}`})`)
        yield* sql.run(sql`SELECT COUNT(*) AS n FROM items`)
        yield* sql`SELECT name FROM items WHERE name = ${`n${i}`}`
      }
      assert.deepStrictEqual((yield* sql.run(sql<{ n: number }>`SELECT COUNT(*) AS n FROM items`))[0]!.n, 5)
    })
  )

  it.scoped("runner: the fast path on this client, the statement itself on any other", () =>
    Effect.gen(function* () {
      const { sql } = yield* open()
      assert.strictEqual(SqliteClient.runner(sql), sql.run)
      const filename = yield* tempStore
      const other = yield* Layer.build(SqliteNode.layer({ filename }))
      const stock = yield* Effect.provide(SqlClient.SqlClient, other)
      const statement = stock`SELECT 1 AS one`
      assert.strictEqual(SqliteClient.runner(stock)(statement), statement)
      assert.deepStrictEqual(yield* SqliteClient.runner(stock)(statement), [{ one: 1 }])
    })
  )
})

/**
 * The worker's SQLite client: an `@effect/sql` `SqlClient` on one better-sqlite3 connection, as
 * `@effect/sql-sqlite-node`'s is (so `sql\`…\``, `withTransaction` and `reserve` work as they do there),
 * made cheaper for the few statements every cancellation runs (issue 14).
 *
 * Through `@effect/sql-sqlite-node`, one statement cost about 99 Effect operations and 80–115 µs of CPU,
 * against 5–25 µs in SQLite itself: a span, an acquire/use/release of the connection's semaphore, a
 * scope, and a look-up in an Effect `Cache` (with a time to live) of prepared statements. Here:
 * - prepared statements are kept in a plain `Map`, the least recently used dropped past a capacity;
 * - {@link Service.run} runs a single statement synchronously on the connection, in one effect, when no
 *   other fiber holds the connection and no transaction is open on it (or the transaction is the calling
 *   fiber's own). Otherwise it is run as `sql\`…\`` runs it, queued behind the holder: a statement never
 *   joins a transaction another fiber has open. It makes no span: the worker runs with the tracer off.
 *
 * Every other statement takes the connection's semaphore (one permit) for as long as it runs, as a
 * transaction does for its whole length.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import Database from "better-sqlite3"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@flex/worker/SqliteClient")

/**
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A `SqlClient` with a fast path for single statements.
 *
 * @category models
 */
export interface Service extends SqlClient.SqlClient {
  readonly [TypeId]: TypeId
  /**
   * Runs one statement of this client and returns its rows, as `yield* statement` would: at once, on
   * the connection, when it is free; otherwise as the statement itself runs (waiting for the fiber that
   * holds the connection, a transaction or a statement waiting out another process's lock).
   */
  readonly run: <A extends object>(statement: Statement.Statement<A>) => Effect.Effect<ReadonlyArray<A>, SqlError>
}

/**
 * @category tags
 */
export class SqliteClient extends Context.Tag("@flex/worker/SqliteClient")<SqliteClient, Service>() {}

/**
 * How the statements that take the connection's semaphore are run, for a client that must wait out
 * locks other processes hold on its file (`StoreLock.client`).
 *
 * @category models
 */
export interface Patience {
  /** Runs one statement, the connection held meanwhile. */
  readonly wait: <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
  /** The failures of the fast path that {@link wait} handles: the statement is run again that way. */
  readonly waits: (error: SqlError) => boolean
  /** Told of every statement the fast path ran. */
  readonly passed: () => void
}

/**
 * @category models
 */
export interface Options {
  readonly filename: string
  readonly readonly?: boolean | undefined
  /** Keeps SQLite's default rollback journal; by default the file is switched to WAL. */
  readonly disableWAL?: boolean | undefined
  /**
   * How long SQLite's own busy handler waits for another connection's lock, per statement. It sleeps
   * in the driver, stopping the process meanwhile. Default: better-sqlite3's, 5 s.
   */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /** Default `BEGIN`. */
  readonly beginTransaction?: string | undefined
  /** How many prepared statements are kept (default 200, as `@effect/sql-sqlite-node`). */
  readonly prepareCacheSize?: number | undefined
  readonly patience?: Patience | undefined
  readonly spanAttributes?: Record<string, unknown> | undefined
}

const commit = "COMMIT"
const rollback = "ROLLBACK"

const prepareFailed = (cause: unknown) => new SqlError({ cause, message: "Failed to prepare statement" })
const executeFailed = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })

/**
 * The client on `options.filename`, its connection closed with the scope.
 *
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const db = new Database(options.filename, { readonly: options.readonly ?? false })
    yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
    if (options.disableWAL !== true) db.pragma("journal_mode = WAL")
    // After the switch to WAL, which may wait for a lock on a file another process has open.
    if (options.busyTimeout !== undefined) db.pragma(`busy_timeout = ${Duration.toMillis(options.busyTimeout)}`)

    const patience = options.patience
    const beginTransaction = options.beginTransaction ?? "BEGIN"
    const capacity = options.prepareCacheSize ?? 200
    const prepared = new Map<string, Database.Statement>()

    /** The prepared statement for `sql`, made on first use; throws what `prepare` throws. */
    const prepare = (sql: string): Database.Statement => {
      const cached = prepared.get(sql)
      if (cached !== undefined) {
        // Map keeps insertion order: moved to the end, the first key is the least recently used.
        prepared.delete(sql)
        prepared.set(sql, cached)
        return cached
      }
      const statement = db.prepare(sql)
      prepared.set(sql, statement)
      if (prepared.size > capacity) prepared.delete(prepared.keys().next().value!)
      return statement
    }

    type Outcome = { readonly ok: true; readonly value: any } | { readonly ok: false; readonly error: SqlError }

    /** One statement, synchronously: its rows (or, `raw`, the run's changes), or its error. */
    const execute = (
      statement: Database.Statement,
      params: ReadonlyArray<unknown>,
      safeIntegers: boolean,
      raw: boolean
    ): Outcome => {
      try {
        if (safeIntegers) statement.safeIntegers(true)
        if (statement.reader) return { ok: true, value: statement.all(...params) }
        const result = statement.run(...params)
        return { ok: true, value: raw ? result : [] }
      } catch (cause) {
        return { ok: false, error: executeFailed(cause) }
      } finally {
        if (safeIntegers) statement.safeIntegers(false)
      }
    }

    const executePrepared = (sql: string, params: ReadonlyArray<unknown>, safeIntegers: boolean, raw: boolean) => {
      let statement: Database.Statement
      try {
        statement = prepare(sql)
      } catch (cause) {
        return { ok: false, error: prepareFailed(cause) } as const
      }
      return execute(statement, params, safeIntegers, raw)
    }

    const toEffect = (outcome: Outcome): Effect.Effect<any, SqlError> =>
      outcome.ok ? Effect.succeed(outcome.value) : Effect.fail(outcome.error)

    const wait: <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError> = patience?.wait ?? identity

    const run = (sql: string, params: ReadonlyArray<unknown>, raw: boolean) =>
      Effect.withFiberRuntime<any, SqlError>((fiber) =>
        toEffect(executePrepared(sql, params, Context.get(fiber.currentContext, SqlClient.SafeIntegers), raw))
      )

    const connection: Connection = {
      execute: (sql, params, transformRows) =>
        wait(
          transformRows === undefined ? run(sql, params, false) : Effect.map(run(sql, params, false), transformRows)
        ),
      executeRaw: (sql, params) => wait(run(sql, params, true)),
      executeValues: (sql, params) =>
        wait(
          Effect.suspend(() => {
            let statement: Database.Statement
            try {
              statement = prepare(sql)
            } catch (cause) {
              return Effect.fail(prepareFailed(cause))
            }
            if (!statement.reader) return toEffect(execute(statement, params, false, false))
            statement.raw(true)
            try {
              return toEffect(execute(statement, params, false, false))
            } finally {
              statement.raw(false)
            }
          })
        ),
      executeUnprepared: (sql, params, transformRows) => {
        // @effect/sql rolls back a transaction whose BEGIN failed (another process's lock, waited out in
        // vain), and dies if SQLite says there is none: that ROLLBACK has nothing to undo, and the BEGIN's
        // error is the one to report. Skipped, it is no statement that got through (`Patience.wait`).
        if (sql === rollback && params.length === 0) {
          return Effect.suspend(() => (db.inTransaction ? wait(run(sql, params, false)) : Effect.succeed([])))
        }
        // The transaction's own statements are the same three texts every time: prepared once.
        if (sql === beginTransaction || sql === commit) return wait(run(sql, params, false))
        const effect = Effect.withFiberRuntime<any, SqlError>((fiber) => {
          let statement: Database.Statement
          try {
            statement = db.prepare(sql)
          } catch (cause) {
            return Effect.fail(prepareFailed(cause))
          }
          return toEffect(execute(statement, params, Context.get(fiber.currentContext, SqlClient.SafeIntegers), false))
        })
        return wait(transformRows === undefined ? effect : Effect.map(effect, transformRows))
      },
      executeStream: () => Stream.dieMessage("executeStream not implemented")
    }

    // The connection is held (one permit) for the length of a statement, or of a transaction; `holders`
    // tells the fast path whether anyone holds it.
    const semaphore = yield* Effect.makeSemaphore(1)
    let holders = 0
    const release = Effect.suspend(() => {
      holders--
      return semaphore.release(1)
    })
    const acquirer: Connection.Acquirer = Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(semaphore.take(1)),
        Effect.flatMap(Effect.scope, (scope) => {
          holders++
          return Effect.as(Scope.addFinalizer(scope, release), connection)
        })
      )
    )

    const client = yield* SqlClient.make({
      acquirer,
      transactionAcquirer: acquirer,
      compiler: Statement.makeCompilerSqlite(),
      beginTransaction,
      commit,
      rollback,
      spanAttributes: [
        ...(options.spanAttributes === undefined ? [] : Object.entries(options.spanAttributes)),
        ["db.system.name", "sqlite"]
      ]
    })

    const fast = <A extends object>(statement: Statement.Statement<A>): Effect.Effect<ReadonlyArray<A>, SqlError> =>
      Effect.withFiberRuntime((fiber) => {
        const context = fiber.currentContext
        const transaction = Context.getOption(context, SqlClient.TransactionConnection)
        if (transaction._tag === "Some") {
          // In a transaction of this fiber's (or its parent's): on the connection as it is. In one of
          // another client's, the statement would run there: let it.
          if (transaction.value[0] !== connection) return statement
        } else if (holders > 0 || db.inTransaction) {
          // Another fiber holds the connection: in a transaction (whose rollback must not take this
          // statement with it), or waiting out a lock. Queue behind it.
          return statement
        }
        // A transformer (`Statement.withTransformer`) rewrites statements on their way to the connection.
        if (fiber.getFiberRef(Statement.currentTransformer)._tag === "Some") return statement
        const [sql, params] = statement.compile()
        const outcome = executePrepared(sql, params, Context.get(context, SqlClient.SafeIntegers), false)
        if (outcome.ok) {
          patience?.passed()
          return Effect.succeed(outcome.value)
        }
        // A failure that did nothing (another process's lock): run again the patient way.
        if (patience?.waits(outcome.error)) return statement
        return Effect.fail(outcome.error)
      })

    return Object.assign(client, { [TypeId]: TypeId, run: fast }) as Service
  })

/**
 * The client as both `SqliteClient` and `SqlClient`.
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<SqliteClient | SqlClient.SqlClient> =>
  Layer.scopedContext(
    Effect.map(make(options), (client) =>
      Context.make(SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
    )
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * Whether `sql` is this module's client.
 *
 * @category guards
 */
export const isSqliteClient = (sql: SqlClient.SqlClient): sql is Service => TypeId in sql

/**
 * How to run a single statement on `sql`: {@link Service.run} on this module's client, and the
 * statement as it is on any other (PostgreSQL, `@effect/sql-sqlite-node`'s client in tests).
 *
 * @category combinators
 */
export const runner = (
  sql: SqlClient.SqlClient
): (<A extends object>(statement: Statement.Statement<A>) => Effect.Effect<ReadonlyArray<A>, SqlError>) =>
  isSqliteClient(sql) ? sql.run : identity

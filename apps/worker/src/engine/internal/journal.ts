/**
 * The embedded engine's tables and every statement it runs on them, as tagged templates so the SQLite
 * client prepares each once and reuses it.
 *
 * - `flex_engine_executions`: one row per execution, its payload, its status (`running`, `suspended`:
 *   waiting on a clock or a signal, `parked`: suspended on a failure until someone resumes it,
 *   `complete`) and, once complete, its result.
 * - `flex_engine_results`: the stored results of the steps of unfinished executions, activities
 *   (`a:NAME/ATTEMPT`) and deferreds (`d:NAME`), as encoded exits.
 * - `flex_engine_clocks`: when each durable clock of an unfinished execution wakes up, set once.
 *
 * A finished execution keeps only its row in `flex_engine_executions`: a second `execute` returns the
 * stored result. On SQLite a trigger drops its step rows in the statement that completes it.
 *
 * On the worker's SQLite client every statement here takes its fast path ({@link SqliteClient.runner}).
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as SqliteClient from "../../store/SqliteClient.js"

export type Status = "running" | "suspended" | "parked" | "complete"

export interface ExecutionRow {
  readonly execution_id: string
  readonly workflow: string
  readonly payload: string
  readonly parent: string | null
  readonly status: Status
  readonly interrupted: number
  readonly result: string | null
}

export interface Journal {
  /** Inserts a new execution; `false` if it existed. */
  readonly insert: (row: {
    readonly executionId: string
    readonly workflow: string
    readonly payload: string
    readonly parent: string | undefined
    readonly now: number
  }) => Effect.Effect<boolean, SqlError>
  readonly find: (executionId: string) => Effect.Effect<ExecutionRow | undefined, SqlError>
  /** Every unfinished execution of a workflow that resumes at start (not the parked ones). */
  readonly unfinished: (workflow: string) => Effect.Effect<ReadonlyArray<ExecutionRow>, SqlError>
  readonly results: (executionId: string) => Effect.Effect<ReadonlyArray<{ key: string; exit: string }>, SqlError>
  /** The stored results of every execution of `workflow` that resumes at start, in one read. */
  readonly unfinishedResults: (
    workflow: string
  ) => Effect.Effect<ReadonlyArray<{ execution_id: string; key: string; exit: string }>, SqlError>
  readonly putResult: (executionId: string, key: string, exit: string) => Effect.Effect<void, SqlError>
  /** Sets a clock's wake-up time if it has none, and returns the one stored. */
  readonly armClock: (executionId: string, name: string, wakeAt: number) => Effect.Effect<number, SqlError>
  readonly setStatus: (executionId: string, status: Status, now: number) => Effect.Effect<void, SqlError>
  /** Parks a failed execution, with its suspension (and the failure's cause) as its result. */
  readonly park: (executionId: string, suspended: string, now: number) => Effect.Effect<void, SqlError>
  readonly setInterrupted: (executionId: string, now: number) => Effect.Effect<void, SqlError>
  /** Records the result and drops the execution's step rows. */
  readonly complete: (
    executionId: string,
    result: string,
    now: number,
    steps: { readonly results: boolean; readonly clocks: boolean }
  ) => Effect.Effect<void, SqlError>
}

export const make = (sql: SqlClient.SqlClient): Effect.Effect<Journal, SqlError> =>
  Effect.gen(function* () {
    yield* sql`CREATE TABLE IF NOT EXISTS flex_engine_executions (
      execution_id TEXT PRIMARY KEY,
      workflow TEXT NOT NULL,
      payload TEXT NOT NULL,
      parent TEXT,
      status TEXT NOT NULL,
      interrupted INTEGER NOT NULL DEFAULT 0,
      result TEXT,
      updated_at INTEGER NOT NULL
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS flex_engine_executions_unfinished
      ON flex_engine_executions (workflow, status) WHERE status <> 'complete'`
    yield* sql`CREATE TABLE IF NOT EXISTS flex_engine_results (
      execution_id TEXT NOT NULL,
      key TEXT NOT NULL,
      exit TEXT NOT NULL,
      PRIMARY KEY (execution_id, key)
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS flex_engine_clocks (
      execution_id TEXT NOT NULL,
      name TEXT NOT NULL,
      wake_at INTEGER NOT NULL,
      PRIMARY KEY (execution_id, name)
    )`
    // The step rows of an execution go in the statement that completes it: one statement instead of
    // two or three for every execution, and no crash can fall between them. On PostgreSQL (where a
    // trigger needs a function of its own) `complete` deletes them itself.
    const cleansUp = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
    if (cleansUp) {
      yield* sql`CREATE TRIGGER IF NOT EXISTS flex_engine_executions_complete
        AFTER UPDATE OF status ON flex_engine_executions WHEN NEW.status = 'complete'
        BEGIN
          DELETE FROM flex_engine_results WHERE execution_id = NEW.execution_id;
          DELETE FROM flex_engine_clocks WHERE execution_id = NEW.execution_id;
        END`
    }
    // A crash between an execution's result and the removal of its steps (a store written before the
    // trigger, or without it) leaves rows nothing reads.
    yield* sql`DELETE FROM flex_engine_results WHERE execution_id IN
      (SELECT execution_id FROM flex_engine_executions WHERE status = 'complete')`
    yield* sql`DELETE FROM flex_engine_clocks WHERE execution_id IN
      (SELECT execution_id FROM flex_engine_executions WHERE status = 'complete')`

    const run = SqliteClient.runner(sql)
    const journal: Journal = {
      insert: ({ executionId, now, parent, payload, workflow }) =>
        Effect.map(
          run(sql`INSERT INTO flex_engine_executions (execution_id, workflow, payload, parent, status, updated_at)
            VALUES (${executionId}, ${workflow}, ${payload}, ${parent ?? null}, 'running', ${now})
            ON CONFLICT (execution_id) DO NOTHING RETURNING 1 AS inserted`),
          (rows) => rows.length > 0
        ),
      find: (executionId) =>
        Effect.map(
          run(sql<ExecutionRow>`SELECT execution_id, workflow, payload, parent, status, interrupted, result
            FROM flex_engine_executions WHERE execution_id = ${executionId}`),
          (rows) => rows[0]
        ),
      unfinished: (workflow) =>
        run(sql<ExecutionRow>`SELECT execution_id, workflow, payload, parent, status, interrupted, result
          FROM flex_engine_executions WHERE workflow = ${workflow} AND status IN ('running', 'suspended')`),
      results: (executionId) =>
        run(sql<{ key: string; exit: string }>`SELECT key, exit FROM flex_engine_results
          WHERE execution_id = ${executionId}`),
      unfinishedResults: (workflow) =>
        run(sql<{ execution_id: string; key: string; exit: string }>`SELECT r.execution_id, r.key, r.exit
          FROM flex_engine_results r JOIN flex_engine_executions e ON e.execution_id = r.execution_id
          WHERE e.workflow = ${workflow} AND e.status IN ('running', 'suspended')`),
      putResult: (executionId, key, exit) =>
        Effect.asVoid(
          run(sql`INSERT INTO flex_engine_results (execution_id, key, exit)
          VALUES (${executionId}, ${key}, ${exit}) ON CONFLICT (execution_id, key) DO NOTHING`)
        ),
      armClock: (executionId, name, wakeAt) =>
        Effect.map(
          // DO UPDATE with the row's own value: RETURNING then gives the stored time, not the new one.
          run(sql<{ wake_at: number | string }>`INSERT INTO flex_engine_clocks (execution_id, name, wake_at)
            VALUES (${executionId}, ${name}, ${wakeAt})
            ON CONFLICT (execution_id, name) DO UPDATE SET wake_at = flex_engine_clocks.wake_at
            RETURNING wake_at`),
          (rows) => Number(rows[0]?.wake_at ?? wakeAt)
        ),
      setStatus: (executionId, status, now) =>
        Effect.asVoid(
          run(sql`UPDATE flex_engine_executions SET status = ${status}, updated_at = ${now}
          WHERE execution_id = ${executionId}`)
        ),
      park: (executionId, suspended, now) =>
        Effect.asVoid(
          run(sql`UPDATE flex_engine_executions SET status = 'parked', result = ${suspended},
          updated_at = ${now} WHERE execution_id = ${executionId}`)
        ),
      setInterrupted: (executionId, now) =>
        Effect.asVoid(
          run(sql`UPDATE flex_engine_executions SET interrupted = 1, updated_at = ${now}
          WHERE execution_id = ${executionId}`)
        ),
      complete: (executionId, result, now, steps) => {
        const update = run(sql`UPDATE flex_engine_executions SET status = 'complete', result = ${result},
          updated_at = ${now} WHERE execution_id = ${executionId}`)
        if (cleansUp) return Effect.asVoid(update)
        return Effect.gen(function* () {
          yield* update
          if (steps.results) yield* run(sql`DELETE FROM flex_engine_results WHERE execution_id = ${executionId}`)
          if (steps.clocks) yield* run(sql`DELETE FROM flex_engine_clocks WHERE execution_id = ${executionId}`)
        })
      }
    }
    return journal
  })

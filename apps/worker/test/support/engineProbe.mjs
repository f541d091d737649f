// A child process for the embedded engine's crash tests: the built engine (dist/) on a real SQLite
// store, with the store's lock and client as the worker has them, running one probe workflow:
//   write (an activity that logs a row with its idempotency key) → a durable sleep → after (logs a row).
// `node engineProbe.mjs STORE MODE`; MODE says where the test will kill it:
//   after-write: kill -9 itself inside `write`, after its row is committed and before the engine stores the result;
//   inside-activity: print "hanging" and hang inside `write`;
//   run: run to the end and print "done RESULT".
// An optional third argument is the durable sleep's duration in ms (1500 by default).

import * as SqlClient from "@effect/sql/SqlClient"
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as Workflow from "@effect/workflow/Workflow"
import { Effect, Layer, Logger, LogLevel, Schema } from "effect"
import * as Sqlite from "../../dist/engine/Sqlite.js"

const [store, mode, napMillis = "1500"] = process.argv.slice(2)

const Probe = Workflow.make({
  name: "CrashProbe",
  payload: { id: Schema.String },
  success: Schema.String,
  idempotencyKey: (p) => p.id
})

const log = (step, key) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`INSERT INTO probe_log (step, key, attempt, pid, at) VALUES (${step}, ${key}, 1, ${process.pid}, ${Date.now()})`
  )

const write = Activity.make({
  name: "write",
  success: Schema.String,
  execute: Effect.gen(function* () {
    const key = yield* Activity.idempotencyKey("write")
    yield* Effect.orDie(log("write", key))
    if (mode === "after-write") process.kill(process.pid, "SIGKILL")
    if (mode === "inside-activity") {
      process.stdout.write("hanging\n")
      return yield* Effect.never
    }
    return key
  })
})

const after = Activity.make({
  name: "after",
  execute: Effect.orDie(log("after", ""))
})

const layer = Probe.toLayer(() =>
  Effect.gen(function* () {
    const key = yield* write
    // inMemoryThreshold "0 millis" (a bare 0 reads as unset): a durable clock (a stored wake-up), as sleeps past a minute are.
    yield* DurableClock.sleep({ name: "nap", duration: `${napMillis} millis`, inMemoryThreshold: "0 millis" })
    yield* after
    return key
  })
)

const table = Layer.effectDiscard(
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`CREATE TABLE IF NOT EXISTS probe_log (step TEXT, key TEXT, attempt INTEGER, pid INTEGER, at INTEGER)`
  )
)

const program = Effect.gen(function* () {
  const result = yield* Probe.execute({ id: "probe" })
  process.stdout.write(`done ${result}\n`)
})

program
  .pipe(
    Effect.provide(layer.pipe(Layer.provideMerge(table), Layer.provideMerge(Sqlite.sqlite(store, "embedded")))),
    Logger.withMinimumLogLevel(LogLevel.Error),
    Effect.runPromise
  )
  .then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error}\n`)
      process.exit(1)
    }
  )

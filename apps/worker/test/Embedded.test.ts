/**
 * The embedded engine on a real SQLite file, with `TestClock` (as Effect's own `packages/workflow/test`
 * tests `WorkflowEngine.layerMemory`): its cases ported, and what a durable engine must add to them,
 * each across a restart of the engine on the same file.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import * as Workflow from "@effect/workflow/Workflow"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import { Cause, type Context, Deferred, Effect, Exit, Layer, Schema, Scope, TestClock } from "effect"
import * as Embedded from "../src/engine/Embedded.js"
import * as SqliteClient from "../src/store/SqliteClient.js"

const tempFile = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(Path.join(tmpdir(), "flex-embedded-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "engine.sqlite")))

/**
 * The engine with the given workflows on `file`, in a scope of its own: closing it is a stop of the
 * process as far as the engine can tell (running executions are interrupted, nothing is recorded for
 * them), and the next one opened on the file is the next process.
 */
const open = <E>(file: string, workflows: Layer.Layer<never, E, WorkflowEngine>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      workflows.pipe(Layer.provideMerge(Embedded.layer), Layer.provideMerge(SqliteClient.layer({ filename: file }))),
      scope
    )
    return {
      run: <A, E2>(effect: Effect.Effect<A, E2, WorkflowEngine | SqlClient.SqlClient>) =>
        Effect.provide(effect, context as Context.Context<WorkflowEngine | SqlClient.SqlClient>),
      stop: Scope.close(scope, Exit.void)
    }
  })

/** Lets every fiber that can move, move (the engine's fibers and SQLite's are all on this event loop). */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
  yield* Effect.sleep(0)
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

/** Polls until the execution reaches `tag` (moving no clock), at most `rounds` times. */
const awaitResult = <A, E>(
  poll: Effect.Effect<Workflow.Result<A, E> | undefined, never, WorkflowEngine>,
  tag: "Complete" | "Suspended",
  rounds = 200
) =>
  Effect.gen(function* () {
    let result = yield* poll
    for (let i = 0; i < rounds && result?._tag !== tag; i++) {
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      yield* settle
      result = yield* poll
    }
    assert.strictEqual(result?._tag, tag)
    return result!
  })

describe("the embedded engine", () => {
  it.scoped("a durable sleep of a day completes when the clock gets there (ported: works with TestClock)", () =>
    Effect.gen(function* () {
      const Long = Workflow.make({ name: "LongWorkflow", payload: { id: Schema.String }, idempotencyKey: (p) => p.id })
      const layer = Long.toLayer(() => DurableClock.sleep({ name: "LongWorkflow sleep", duration: "1 day" }))
      const engine = yield* open(yield* tempFile, layer)
      const id = yield* engine.run(Long.execute({ id: "test-1" }, { discard: true }))
      yield* settle
      assert.strictEqual((yield* engine.run(awaitResult(Long.poll(id), "Suspended")))._tag, "Suspended")
      yield* TestClock.adjust("1 day")
      assert.deepStrictEqual(
        yield* engine.run(awaitResult(Long.poll(id), "Complete")),
        new Workflow.Complete({ exit: Exit.void })
      )
    })
  )

  it.scoped("a parent waits for its child, which sleeps an hour (ported: nested workflows)", () =>
    Effect.gen(function* () {
      const Child = Workflow.make({
        name: "ChildWorkflow",
        payload: { id: Schema.String },
        idempotencyKey: (p) => p.id
      })
      const Parent = Workflow.make({
        name: "ParentWorkflow",
        payload: { id: Schema.String },
        idempotencyKey: (p) => p.id
      })
      const layers = Layer.mergeAll(
        Child.toLayer(() => DurableClock.sleep({ name: "ChildWorkflow sleep", duration: "1 hour" })),
        Parent.toLayer(() => Child.execute({ id: "child-1" }))
      )
      const engine = yield* open(yield* tempFile, layers)
      const id = yield* engine.run(Parent.execute({ id: "parent-1" }, { discard: true }))
      yield* engine.run(awaitResult(Parent.poll(id), "Suspended"))
      yield* TestClock.adjust("1 hour")
      assert.deepStrictEqual(
        yield* engine.run(awaitResult(Parent.poll(id), "Complete")),
        new Workflow.Complete({ exit: Exit.void })
      )
    })
  )

  it.scoped("a second execute returns the stored result and runs nothing, also after a restart", () =>
    Effect.gen(function* () {
      let runs = 0
      const Once = Workflow.make({
        name: "Once",
        payload: { id: Schema.String },
        success: Schema.Struct({ n: Schema.Number }),
        error: Schema.String,
        idempotencyKey: (p) => p.id
      })
      const layer = Once.toLayer(({ id }) =>
        Activity.make({
          name: "count",
          success: Schema.Number,
          execute: Effect.sync(() => ++runs)
        }).pipe(Effect.flatMap((n) => (id === "fails" ? Effect.fail(`failed after ${n}`) : Effect.succeed({ n }))))
      )
      const file = yield* tempFile
      const first = yield* open(file, layer)
      assert.deepStrictEqual(yield* first.run(Once.execute({ id: "a" })), { n: 1 })
      assert.deepStrictEqual(yield* first.run(Once.execute({ id: "a" })), { n: 1 })
      assert.strictEqual(yield* first.run(Effect.flip(Once.execute({ id: "fails" }))), "failed after 2")
      yield* first.stop
      const second = yield* open(file, layer)
      assert.deepStrictEqual(yield* second.run(Once.execute({ id: "a" })), { n: 1 })
      assert.strictEqual(yield* second.run(Effect.flip(Once.execute({ id: "fails" }))), "failed after 2")
      assert.strictEqual(runs, 2)
      // A finished execution keeps its row and result only.
      const rows = yield* second.run(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM flex_engine_results`)
      )
      assert.strictEqual(rows[0]!.n, 0)
    })
  )

  it.scoped(
    "a restart resumes an execution: stored activities replay, the one in flight runs again with the same key",
    () =>
      Effect.gen(function* () {
        const calls: Array<{ step: string; attempt: number; key: string }> = []
        const inFlight = yield* Deferred.make<void>()
        let hang = true
        const Steps = Workflow.make({
          name: "Steps",
          payload: { id: Schema.String },
          success: Schema.String,
          idempotencyKey: (p) => p.id
        })
        const step = (name: string) =>
          Activity.make({
            name,
            success: Schema.String,
            execute: Effect.gen(function* () {
              const key = yield* Activity.idempotencyKey(name)
              calls.push({ step: name, attempt: yield* Activity.CurrentAttempt, key })
              if (name === "second" && hang) {
                yield* Deferred.succeed(inFlight, undefined)
                return yield* Effect.never
              }
              return name
            })
          })
        const layer = Steps.toLayer(() =>
          Effect.gen(function* () {
            const a = yield* step("first")
            const b = yield* step("second").pipe(Effect.provideService(Activity.CurrentAttempt, 2))
            return `${a}+${b}`
          })
        )
        const file = yield* tempFile
        const first = yield* open(file, layer)
        const id = yield* first.run(Steps.execute({ id: "s" }, { discard: true }))
        yield* Deferred.await(inFlight)
        yield* first.stop
        assert.isUndefined(
          yield* Effect.flatMap(open(file, Layer.empty), (e) => Effect.zipLeft(e.run(Steps.poll(id)), e.stop))
        )
        hang = false
        const second = yield* open(file, layer)
        assert.deepStrictEqual(
          yield* second.run(awaitResult(Steps.poll(id), "Complete")),
          new Workflow.Complete({ exit: Exit.succeed("first+second") })
        )
        assert.deepStrictEqual(
          calls.map((c) => `${c.step}/${c.attempt}`),
          ["first/1", "second/2", "second/2"]
        )
        assert.strictEqual(calls[1]!.key, calls[2]!.key)
      })
  )

  it.scoped("a restart during a durable sleep waits out what is left of it, not a fresh duration", () =>
    Effect.gen(function* () {
      let after = 0
      const Sleeper = Workflow.make({ name: "Sleeper", payload: { id: Schema.String }, idempotencyKey: (p) => p.id })
      const layer = Sleeper.toLayer(() =>
        Effect.gen(function* () {
          yield* DurableClock.sleep({ name: "nap", duration: "10 hours" })
          after++
        })
      )
      const file = yield* tempFile
      const first = yield* open(file, layer)
      const id = yield* first.run(Sleeper.execute({ id: "z" }, { discard: true }))
      yield* first.run(awaitResult(Sleeper.poll(id), "Suspended"))
      yield* TestClock.adjust("6 hours")
      yield* first.stop
      const second = yield* open(file, layer)
      yield* second.run(awaitResult(Sleeper.poll(id), "Suspended"))
      // Re-armed with a fresh 10 hours it would still be asleep after the 4 that were left.
      yield* TestClock.adjust("4 hours")
      assert.deepStrictEqual(
        yield* second.run(awaitResult(Sleeper.poll(id), "Complete")),
        new Workflow.Complete({ exit: Exit.void })
      )
      assert.strictEqual(after, 1)
      // A finished execution keeps no step rows: neither its clock nor the clock's deferred.
      const left = yield* second.run(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ clocks: number; results: number }>`SELECT (SELECT COUNT(*) FROM flex_engine_clocks) AS clocks,
            (SELECT COUNT(*) FROM flex_engine_results) AS results`
        )
      )
      assert.deepStrictEqual(left, [{ clocks: 0, results: 0 }])
    })
  )

  it.scoped("a deferred completed from outside wakes a suspended execution, across a restart", () =>
    Effect.gen(function* () {
      const Signal = DurableDeferred.make("approval", { success: Schema.String })
      const Waits = Workflow.make({
        name: "Waits",
        payload: { id: Schema.String },
        success: Schema.String,
        idempotencyKey: (p) => p.id
      })
      const layer = Waits.toLayer(() => Effect.map(DurableDeferred.await(Signal), (v) => `got ${v}`))
      const file = yield* tempFile
      const first = yield* open(file, layer)
      const id = yield* first.run(Waits.execute({ id: "w" }, { discard: true }))
      yield* first.run(awaitResult(Waits.poll(id), "Suspended"))
      yield* first.stop
      const second = yield* open(file, layer)
      const token = DurableDeferred.tokenFromExecutionId(Signal, { workflow: Waits, executionId: id })
      yield* second.run(DurableDeferred.succeed(Signal, { token, value: "yes" }))
      assert.deepStrictEqual(
        yield* second.run(awaitResult(Waits.poll(id), "Complete")),
        new Workflow.Complete({ exit: Exit.succeed("got yes") })
      )
      assert.strictEqual(yield* second.run(Waits.execute({ id: "w" })), "got yes")
    })
  )

  it.scoped("interrupt ends a running execution and its activity, and a suspended one without a new step", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      let afterwards = 0
      let released = 0
      const Stops = Workflow.make({ name: "Stops", payload: { id: Schema.String }, idempotencyKey: (p) => p.id })
      const layer = Stops.toLayer(({ id }) =>
        Effect.gen(function* () {
          if (id === "running") {
            yield* Activity.make({
              name: "hangs",
              execute: Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(
                Effect.ensuring(Effect.sync(() => released++))
              )
            })
          } else {
            yield* DurableClock.sleep({ name: "long", duration: "1 day" })
          }
          yield* Activity.make({ name: "afterwards", execute: Effect.sync(() => afterwards++) })
        })
      )
      const file = yield* tempFile
      const engine = yield* open(file, layer)
      const running = yield* engine.run(Stops.execute({ id: "running" }, { discard: true }))
      yield* Deferred.await(started)
      yield* engine.run(Stops.interrupt(running))
      const ended = yield* engine.run(awaitResult(Stops.poll(running), "Complete"))
      assert.isTrue(ended._tag === "Complete" && Exit.isInterrupted(ended.exit))
      assert.strictEqual(released, 1)

      const sleeping = yield* engine.run(Stops.execute({ id: "sleeping" }, { discard: true }))
      yield* engine.run(awaitResult(Stops.poll(sleeping), "Suspended"))
      yield* engine.run(Stops.interrupt(sleeping))
      const stopped = yield* engine.run(awaitResult(Stops.poll(sleeping), "Complete"))
      assert.isTrue(stopped._tag === "Complete" && Exit.isInterrupted(stopped.exit))
      yield* TestClock.adjust("1 day")
      yield* settle
      assert.strictEqual(afterwards, 0)
      yield* engine.stop
      // Recorded: the next process neither resumes nor runs them.
      const again = yield* open(file, layer)
      const polled = yield* again.run(Stops.poll(running))
      assert.isTrue(polled?._tag === "Complete" && Exit.isInterrupted(polled.exit))
      assert.strictEqual(afterwards, 0)
    })
  )

  it.scoped("SuspendOnFailure parks a failed execution: not resumed at start, finished by resume", () =>
    Effect.gen(function* () {
      let attempts = 0
      const Fragile = Workflow.make({
        name: "Fragile",
        payload: { id: Schema.String },
        success: Schema.Number,
        idempotencyKey: (p) => p.id
      }).annotate(Workflow.SuspendOnFailure, true)
      const layer = Fragile.toLayer(() =>
        Activity.make({
          name: "flaky",
          success: Schema.Number,
          execute: Effect.suspend(() => (++attempts === 1 ? Effect.die("broken") : Effect.succeed(attempts)))
        })
      )
      const file = yield* tempFile
      const first = yield* open(file, layer)
      const id = yield* first.run(Fragile.execute({ id: "f" }, { discard: true }))
      const parked = yield* first.run(awaitResult(Fragile.poll(id), "Suspended"))
      assert.isTrue(parked._tag === "Suspended" && parked.cause !== undefined && Cause.isDie(parked.cause))
      yield* first.stop
      const second = yield* open(file, layer)
      yield* settle
      assert.strictEqual(attempts, 1)
      assert.strictEqual((yield* second.run(Fragile.poll(id)))?._tag, "Suspended")
      yield* second.run(Fragile.resume(id))
      assert.deepStrictEqual(
        yield* second.run(awaitResult(Fragile.poll(id), "Complete")),
        new Workflow.Complete({ exit: Exit.succeed(2) })
      )
    })
  )

  it.scoped(
    "a step or a result that cannot be stored fails this run only: nothing recorded, the next execute finishes it",
    () =>
      Effect.gen(function* () {
        let runs = 0
        const Stores = Workflow.make({
          name: "Stores",
          payload: { id: Schema.String },
          success: Schema.Number,
          idempotencyKey: (p) => p.id
        })
        const layer = Stores.toLayer(() =>
          Activity.make({ name: "count", success: Schema.Number, execute: Effect.sync(() => ++runs) })
        )
        const engine = yield* open(yield* tempFile, layer)
        const sql = (query: string) => engine.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(query)))
        const rows = (id: string) =>
          engine.run(
            Effect.flatMap(
              SqlClient.SqlClient,
              (sql) => sql<{ status: string; result: string | null }>`SELECT status, result FROM flex_engine_executions
              WHERE execution_id = ${id}`
            )
          )
        const executionId = (id: string) => Stores.executionId({ id })
        const diesOnStorage = (id: string) =>
          Effect.gen(function* () {
            const exit = yield* engine.run(Effect.exit(Stores.execute({ id })))
            assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), String(exit))
            assert.deepStrictEqual(yield* rows(yield* executionId(id)), [{ status: "running", result: null }])
          })

        // A step's result cannot be written (as on a full disk).
        yield* sql(
          `CREATE TRIGGER full_disk BEFORE INSERT ON flex_engine_results BEGIN SELECT RAISE(ABORT, 'disk full'); END`
        )
        yield* diesOnStorage("step")
        yield* sql(`DROP TRIGGER full_disk`)
        assert.strictEqual(yield* engine.run(Stores.execute({ id: "step" })), 2)
        assert.strictEqual((yield* rows(yield* executionId("step")))[0]!.status, "complete")

        // The step is stored, the execution's result cannot be.
        yield* sql(`CREATE TRIGGER full_disk BEFORE UPDATE ON flex_engine_executions WHEN NEW.status = 'complete'
        BEGIN SELECT RAISE(ABORT, 'disk full'); END`)
        yield* diesOnStorage("result")
        yield* sql(`DROP TRIGGER full_disk`)
        assert.strictEqual(yield* engine.run(Stores.execute({ id: "result" })), 3)
        assert.strictEqual((yield* rows(yield* executionId("result")))[0]!.status, "complete")
        // Its stored step replayed: the activity ran once for it.
        assert.strictEqual(runs, 3)
      })
  )

  it.scoped("a failed read of an execution's steps leaves nothing waiting: the next resume runs it", () =>
    Effect.gen(function* () {
      let attempts = 0
      const Parks = Workflow.make({
        name: "Parks",
        payload: { id: Schema.String },
        success: Schema.Number,
        idempotencyKey: (p) => p.id
      }).annotate(Workflow.SuspendOnFailure, true)
      const layer = Parks.toLayer(() =>
        Activity.make({
          name: "flaky",
          success: Schema.Number,
          execute: Effect.suspend(() => (++attempts === 1 ? Effect.die("broken") : Effect.succeed(attempts)))
        })
      )
      const engine = yield* open(yield* tempFile, layer)
      const sql = (query: string) => engine.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(query)))
      const id = yield* engine.run(Parks.execute({ id: "p" }, { discard: true }))
      yield* engine.run(awaitResult(Parks.poll(id), "Suspended"))
      // A parked execution is read back from storage by `resume`: make that read fail (a step row it
      // cannot decode), then mend it.
      yield* sql(`INSERT INTO flex_engine_results (execution_id, key, exit) VALUES ('${id}', 'a:broken/1', 'not json')`)
      assert.isTrue(Exit.isFailure(yield* engine.run(Effect.exit(Parks.resume(id)))))
      yield* sql(`DELETE FROM flex_engine_results WHERE key = 'a:broken/1'`)
      yield* engine.run(Parks.resume(id))
      assert.deepStrictEqual(
        yield* engine.run(awaitResult(Parks.poll(id), "Complete")),
        new Workflow.Complete({ exit: Exit.succeed(2) })
      )
    })
  )

  it.scoped("concurrent executes of one new execution run it once", () =>
    Effect.gen(function* () {
      let runs = 0
      const Shared = Workflow.make({
        name: "Shared",
        payload: { id: Schema.String },
        success: Schema.Number,
        idempotencyKey: (p) => p.id
      })
      const layer = Shared.toLayer(() =>
        Activity.make({ name: "once", success: Schema.Number, execute: Effect.sync(() => ++runs) })
      )
      const engine = yield* open(yield* tempFile, layer)
      const results = yield* engine.run(
        Effect.all(
          Array.from({ length: 8 }, () => Shared.execute({ id: "x" })),
          { concurrency: "unbounded" }
        )
      )
      assert.deepStrictEqual(results, Array(8).fill(1))
      assert.strictEqual(runs, 1)
    })
  )
})

/**
 * The embedded engine: `@effect/workflow`'s `WorkflowEngine` written directly on the store's SQL
 * client, for one process that owns its SQLite file ({@link StoreLock}).
 *
 * The cluster engine delivers every step as a persisted entity message with a persisted reply, polled
 * from storage and routed to an entity: about 30 statements in 6 transactions per cancellation. A
 * single process needs none of that routing. Here an execution is a row, each finished step (an
 * activity's result, a deferred's value) is a row, each durable clock is a row with its wake-up time;
 * a new execution reads nothing, and a step costs one insert (`internal/journal`).
 *
 * What it keeps of the cluster engine's promises:
 * - **Resume at start**: registering a workflow resumes every execution of it that was running or
 *   suspended; each replays its stored steps and runs on from the first step without a result.
 * - **Activities at least once**: a result is stored after the activity ends, so one in flight when the
 *   process died runs again, under the same attempt (and so the same `Activity.idempotencyKey`).
 * - **Durable clocks**: a clock's wake-up time is stored the first time it is set; a replay finds it and
 *   waits out what is left, never a fresh duration, and a clock that fired is never set again.
 * - **Interrupt**: a running execution is interrupted at once (its activities with it); a suspended one
 *   replays without starting any new activity and ends interrupted. No new step starts after it.
 * - **SuspendOnFailure**: a failed execution is parked (not resumed at start) until `resume`.
 * - **Finished executions**: a second `execute` returns the stored result and runs nothing; a finished
 *   execution's step rows are deleted.
 * - **Child workflows**: a child's completion resumes its parent.
 * - **Storage failures**: a step or a result that cannot be stored fails that run (a defect to its
 *   callers) and is never recorded as its result; the execution stays unfinished, and the next `execute`
 *   or `resume` runs it on from what storage holds.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Workflow from "@effect/workflow/Workflow"
import { type Encoded, makeUnsafe, WorkflowEngine, WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberMap from "effect/FiberMap"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Journal from "./internal/journal.js"

type Execute = (
  payload: object,
  executionId: string
) => Effect.Effect<unknown, unknown, WorkflowInstance | WorkflowEngine>

interface Registered {
  readonly workflow: Workflow.Any
  readonly execute: Execute
  /** The services where the workflow was registered: its handler runs with them, under the caller's. */
  readonly context: Context.Context<never>
  readonly scope: Scope.Scope
  readonly encodePayload: (payload: object) => string
  readonly decodePayload: (text: string) => object
  readonly encodeResult: (exit: Exit.Exit<unknown, unknown>) => string
  readonly decodeResult: (text: string) => Exit.Exit<unknown, unknown>
}

/** An execution this process is running, or has suspended. */
interface Execution {
  readonly executionId: string
  readonly registered: Registered
  readonly payload: object
  readonly parent: string | undefined
  /** The stored step results (encoded exits), as in `flex_engine_results`. */
  readonly results: Map<string, unknown>
  hasClocks: boolean
  interrupted: boolean
  /** The instance of its current (or last) run; none before the first. */
  instance: WorkflowInstance["Type"] | undefined
  fiber: Fiber.RuntimeFiber<Workflow.Result<unknown, unknown>> | undefined
  /** The fiber running the workflow body, for interrupting it (and not the bookkeeping around it). */
  body: Fiber.RuntimeFiber<unknown, unknown> | undefined
  running: boolean
  /** Something it may wait for happened while it ran: run it again if it suspends. */
  wake: boolean
  /** Set until the execution's row is known and its fiber started. */
  ready: Effect.Latch
  status: Journal.Status
  /** A step this run could not store: the run ends with it as a defect, and nothing of it is recorded. */
  storageFailure: SqlError | undefined
}

const activityKey = (name: string, attempt: number) => `a:${name}/${attempt}`
const deferredKey = (name: string) => `d:${name}`

/** Steps store their exits with the values already encoded by the step's own schema. */
const ExitUnknown = Schema.Exit({ success: Schema.Unknown, failure: Schema.Unknown, defect: Schema.Defect })
const encodeExitUnknown = Schema.encodeSync(ExitUnknown)
const decodeExitUnknown = Schema.decodeUnknownSync(ExitUnknown)

// The common case, a success, without going through the schema.
const encodeStep = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isSuccess(exit) ? { _tag: "Success", value: exit.value } : encodeExitUnknown(exit)
const decodeStep = (encoded: unknown): Exit.Exit<unknown, unknown> =>
  (encoded as { _tag?: unknown })._tag === "Success"
    ? Exit.succeed((encoded as { value: unknown }).value)
    : decodeExitUnknown(encoded)

/**
 * `Effect.logDebug` with annotations, decided first: at the default level (info) it is filtered out, and
 * an annotated log costs a dozen Effect operations before the logger drops it, three times per execution.
 */
const logDebug = (message: string, annotations: () => Record<string, unknown>): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) =>
    LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
      ? Effect.void
      : Effect.annotateLogs(Effect.logDebug(message), annotations())
  )

/**
 * `WorkflowInstance.initial` without its `Effect.runSync` (a fiber of its own, per execution and per
 * activity, to make a scope).
 */
const makeInstance = (workflow: Workflow.Any, executionId: string): Effect.Effect<WorkflowInstance["Type"]> =>
  Effect.map(Scope.make(), (scope) =>
    WorkflowInstance.of({
      executionId,
      workflow,
      scope,
      suspended: false,
      interrupted: false,
      cause: undefined,
      activityState: { count: 0, latch: Effect.unsafeMakeLatch() }
    })
  )

const SuspendedJson = Schema.parseJson(Workflow.Suspended)
const encodeSuspended = Schema.encodeSync(SuspendedJson)
const decodeSuspended = Schema.decodeSync(SuspendedJson)

const register = (
  workflow: Workflow.Any,
  execute: Execute,
  context: Context.Context<never>,
  scope: Scope.Scope
): Registered => {
  const payloadSchema = workflow.payloadSchema as unknown as Schema.Schema<object, unknown>
  const exitSchema = Schema.parseJson(
    Schema.Exit({
      success: workflow.successSchema as Schema.Schema<unknown, unknown>,
      failure: workflow.errorSchema as Schema.Schema<unknown, unknown>,
      defect: Schema.Defect
    })
  )
  const encodePayload = Schema.encodeSync(payloadSchema)
  const decodePayload = Schema.decodeUnknownSync(payloadSchema)
  const encodeExit = Schema.encodeSync(exitSchema)
  const encodeSuccess = Schema.encodeSync(workflow.successSchema as Schema.Schema<unknown, unknown>)
  return {
    workflow,
    execute,
    context,
    scope,
    encodePayload: (payload) => JSON.stringify(encodePayload(payload)),
    decodePayload: (text) => decodePayload(JSON.parse(text)),
    // A success as the exit schema writes it (the same text), without going through `Schema.Exit`.
    encodeResult: (exit) =>
      Exit.isSuccess(exit) ? JSON.stringify({ _tag: "Success", value: encodeSuccess(exit.value) }) : encodeExit(exit),
    decodeResult: Schema.decodeSync(exitSchema)
  }
}

export const make: Effect.Effect<WorkflowEngine["Type"], SqlError, SqlClient.SqlClient | Scope.Scope> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const journal = yield* Journal.make(sql)
    const clocks = yield* FiberMap.make<string>()
    // Runs before the executions' fibers are interrupted (finalizers run in reverse): nothing of theirs is
    // recorded, so each resumes from its last stored step at the next start.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() =>
        Effect.logDebug(
          `embedded engine: stopping, ${[...executions.values()].filter((e) => e.running).length} executions running`
        )
      )
    )
    const workflows = new Map<string, Registered>()
    const executions = new Map<string, Execution>()

    const now = Clock.currentTimeMillis

    const newExecution = (
      registered: Registered,
      executionId: string,
      payload: object,
      parent: string | undefined,
      status: Journal.Status
    ): Execution => ({
      executionId,
      registered,
      payload,
      parent,
      results: new Map(),
      hasClocks: false,
      interrupted: false,
      instance: undefined,
      fiber: undefined,
      body: undefined,
      running: false,
      wake: false,
      ready: Effect.unsafeMakeLatch(false),
      status,
      storageFailure: undefined
    })

    /**
     * Forgets an execution whose run or setup failed: the next `execute` or `resume` reads it back from
     * storage, where it is still unfinished. Only this entry: a newer one for the id is left alone.
     */
    const drop = (state: Execution) =>
      Effect.sync(() => {
        state.running = false
        state.body = undefined
        if (executions.get(state.executionId) === state) executions.delete(state.executionId)
      })

    /**
     * Sets up an execution others may be waiting for: not interrupted half-way (a row without a started
     * fiber), and whatever the outcome its latch opens, a failed setup leaving no entry behind.
     */
    const setUp = <A, E>(state: Execution, setup: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      setup.pipe(
        Effect.onExit((exit) => Effect.zipRight(Exit.isSuccess(exit) ? Effect.void : drop(state), state.ready.open)),
        Effect.uninterruptible
      )

    /**
     * A statement a running workflow's step needed failed. It must not become the workflow's result (a
     * defect the body captures would be stored as its end): the run is marked, and ends with it instead.
     */
    const failedStoring = (error: SqlError): Effect.Effect<never> =>
      Effect.flatMap(Effect.serviceOption(WorkflowInstance), (instance) => {
        if (Option.isSome(instance)) {
          const state = executions.get(instance.value.executionId)
          if (state?.running && state.instance === instance.value) state.storageFailure ??= error
        }
        return Effect.die(error)
      })

    /** What a run's result leaves in storage, before the run's fiber ends (so its joiners see it stored). */
    const settle = (state: Execution, result: Workflow.Result<unknown, unknown>): Effect.Effect<void, SqlError> =>
      Effect.gen(function* () {
        // `running` stays set until the writes are done: a `resume` meanwhile sets `wake` rather than
        // starting a second run next to this one.
        state.body = undefined
        if (result._tag === "Complete") {
          yield* logDebug("execution complete", () => ({
            workflow: state.registered.workflow.name,
            executionId: state.executionId
          }))
          const text = state.registered.encodeResult(result.exit)
          yield* journal.complete(state.executionId, text, yield* now, {
            results: state.results.size > 0,
            clocks: state.hasClocks
          })
          state.status = "complete"
          state.running = false
          if (executions.get(state.executionId) === state) executions.delete(state.executionId)
          if (state.hasClocks) {
            for (const key of [...clocksOf(state.executionId)]) yield* FiberMap.remove(clocks, key)
          }
          if (state.parent !== undefined) yield* Effect.forkIn(resume(state.parent), state.registered.scope)
          return
        }
        if (state.wake) {
          state.wake = false
          return yield* start(state)
        }
        const parks =
          Context.get(state.registered.workflow.annotations, Workflow.SuspendOnFailure) &&
          state.instance?.cause !== undefined
        if (parks) {
          // It waits for `resume`, and is read back from storage then.
          yield* journal.park(state.executionId, encodeSuspended(result), yield* now)
          state.status = "parked"
          if (state.wake) {
            // Resumed while it was being parked.
            yield* journal.setStatus(state.executionId, "running", yield* now)
            state.status = "running"
            return yield* start(state)
          }
          state.running = false
          if (executions.get(state.executionId) === state) executions.delete(state.executionId)
          return
        } else if (state.status !== "suspended") {
          yield* journal.setStatus(state.executionId, "suspended", yield* now)
          state.status = "suspended"
        }
        if (state.wake) return yield* start(state)
        state.running = false
      })

    const clockKeys = new Map<string, Set<string>>()
    const clocksOf = (executionId: string) => clockKeys.get(executionId) ?? new Set<string>()

    /** Runs (or runs again) an execution from its first step, replaying the stored ones. */
    const start = (state: Execution): Effect.Effect<void> =>
      Effect.flatMap(makeInstance(state.registered.workflow, state.executionId), (instance) => {
        instance.interrupted = state.interrupted
        state.instance = instance
        state.running = true
        state.wake = false
        state.storageFailure = undefined
        const body = Effect.withFiberRuntime<unknown, unknown, WorkflowInstance | WorkflowEngine>((fiber) => {
          state.body = fiber
          return Effect.zipRight(
            logDebug(state.results.size === 0 ? "execution started" : "execution resumed", () => ({
              workflow: state.registered.workflow.name,
              executionId: state.executionId
            })),
            state.registered.execute(state.payload, state.executionId)
          )
        })
        return body.pipe(
          Effect.onExit(() => {
            // Interrupted while it suspended: it ends interrupted instead.
            if (!instance.interrupted) return Effect.void
            instance.suspended = false
            return Effect.withFiberRuntime<void>((fiber) => Effect.interruptible(Fiber.interrupt(fiber)))
          }),
          Workflow.intoResult,
          // The caller's services over the registration's, as `makeUnsafe`'s handler has them.
          Effect.mapInputContext((input: Context.Context<never>) =>
            Context.add(
              Context.add(Context.merge(state.registered.context, input), WorkflowInstance, instance),
              WorkflowEngine,
              engine
            )
          ),
          Effect.tap((result) =>
            state.storageFailure !== undefined ? Effect.die(state.storageFailure) : Effect.orDie(settle(state, result))
          ),
          // A run that ends without a settled result (a step or its own bookkeeping not stored, the engine
          // stopping) leaves the execution as storage has it, unfinished, for the next execute to resume.
          Effect.onError(() => drop(state)),
          Effect.forkIn(state.registered.scope),
          Effect.flatMap((fiber) =>
            Effect.sync(() => {
              state.fiber = fiber
            })
          )
        )
      })

    /** The execution as this process holds it, read back from storage if need be (undefined: finished or unknown). */
    const load = (executionId: string): Effect.Effect<Execution | undefined, SqlError> =>
      Effect.gen(function* () {
        const held = executions.get(executionId)
        if (held !== undefined) {
          yield* held.ready.await
          return executions.get(executionId)
        }
        const row = yield* journal.find(executionId)
        if (row === undefined || row.status === "complete") return undefined
        const registered = workflows.get(row.workflow)
        if (registered === undefined) return undefined
        const again = executions.get(executionId)
        if (again !== undefined) {
          yield* again.ready.await
          return executions.get(executionId)
        }
        const state = newExecution(
          registered,
          executionId,
          registered.decodePayload(row.payload),
          row.parent ?? undefined,
          row.status
        )
        state.interrupted = row.interrupted === 1
        executions.set(executionId, state)
        yield* setUp(
          state,
          Effect.map(journal.results(executionId), (rows) => {
            for (const { exit, key } of rows) state.results.set(key, JSON.parse(exit))
            state.hasClocks = true
          })
        )
        return state
      })

    const resume = (executionId: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        const state = yield* load(executionId)
        if (state === undefined) return
        if (state.running) {
          state.wake = true
          return
        }
        if (state.status === "parked") {
          yield* journal.setStatus(executionId, "running", yield* now)
          state.status = "running"
        }
        yield* start(state)
      }).pipe(Effect.orDie)

    const execute: Encoded["execute"] = (workflow, options) =>
      Effect.gen(function* () {
        const { executionId } = options
        let state = executions.get(executionId)
        if (state === undefined) {
          const registered = workflows.get(workflow.name)
          if (registered === undefined) return yield* Effect.dieMessage(`Workflow ${workflow.name} is not registered`)
          // Held before the first statement: a concurrent `execute` of the same id waits for this one.
          const fresh = newExecution(registered, executionId, options.payload, options.parent?.executionId, "running")
          executions.set(executionId, fresh)
          // The row and the run's fiber as one step: a caller interrupted in between (a client gone
          // mid-request) would leave a row whose execution never starts, and waiters on the latch.
          const inserted = yield* setUp(
            fresh,
            Effect.gen(function* () {
              const inserted = yield* journal.insert({
                executionId,
                workflow: workflow.name,
                payload: registered.encodePayload(options.payload),
                parent: options.parent?.executionId,
                now: yield* now
              })
              if (inserted) yield* start(fresh)
              else executions.delete(executionId)
              return inserted
            })
          )
          if (inserted) {
            state = fresh
          } else {
            const row = yield* journal.find(executionId)
            if (row?.status === "complete") {
              if (options.discard) return undefined
              return new Workflow.Complete({ exit: registered.decodeResult(row.result!) })
            }
            if (row?.status === "parked") return options.discard ? undefined : decodeSuspended(row.result!)
            state = yield* load(executionId)
            if (state === undefined) return yield* Effect.dieMessage(`Execution ${executionId} vanished`)
            if (!state.running && state.fiber === undefined) yield* start(state)
          }
        } else {
          yield* state.ready.await
          // Its setup failed, or it finished and was dropped: ask again, from storage.
          if (executions.get(executionId) !== state) return yield* execute(workflow, options)
        }
        if (options.discard) return undefined
        const fiber = state.fiber
        if (fiber === undefined) return new Workflow.Suspended()
        return yield* Fiber.join(fiber)
      }).pipe(Effect.orDie) as any

    const registerWith = (workflow: Workflow.Any, execute: Execute, context: Context.Context<never>) =>
      Effect.gen(function* () {
        const registered = register(workflow, execute, context, yield* Effect.scope)
        workflows.set(workflow.name, registered)
        // Resume what a previous process left unfinished, before any new `execute` can look for it.
        const rows = yield* journal.unfinished(workflow.name)
        yield* Effect.logDebug(`embedded engine: ${workflow.name} registered, ${rows.length} unfinished to resume`)
        if (rows.length === 0) return
        const states = rows.map((row) => {
          const state = newExecution(
            registered,
            row.execution_id,
            registered.decodePayload(row.payload),
            row.parent ?? undefined,
            row.status
          )
          state.interrupted = row.interrupted === 1
          state.hasClocks = true
          executions.set(row.execution_id, state)
          return state
        })
        for (const { execution_id, exit, key } of yield* journal.unfinishedResults(workflow.name)) {
          executions.get(execution_id)?.results.set(key, JSON.parse(exit))
        }
        for (const state of states) {
          yield* start(state)
          yield* state.ready.open
        }
      }).pipe(Effect.orDie)

    const wrapped: WorkflowEngine["Type"] = makeUnsafe({
      // `makeUnsafe` merges the registration's services into `execute` itself.
      register: (workflow, execute) => registerWith(workflow, execute, Context.empty()),

      execute,

      poll: (_workflow, executionId) =>
        Effect.gen(function* () {
          const state = executions.get(executionId)
          if (state !== undefined) {
            yield* state.ready.await
            if (state.running || state.fiber === undefined) return undefined
            const exit = state.fiber.unsafePoll()
            return exit !== null && Exit.isSuccess(exit) ? exit.value : undefined
          }
          const row = yield* journal.find(executionId)
          if (row === undefined) return undefined
          const registered = workflows.get(row.workflow)
          if (row.status === "complete" && registered !== undefined) {
            return new Workflow.Complete({ exit: registered.decodeResult(row.result!) })
          }
          if (row.status === "parked") return decodeSuspended(row.result!)
          return row.status === "running" ? undefined : new Workflow.Suspended()
        }).pipe(Effect.orDie),

      interrupt: (_workflow, executionId) =>
        Effect.gen(function* () {
          const state = yield* load(executionId)
          if (state === undefined) return
          yield* journal.setInterrupted(executionId, yield* now)
          state.interrupted = true
          if (state.instance !== undefined) state.instance.interrupted = true
          if (state.running) {
            // The body only: the run's own bookkeeping then records it as complete (interrupted). If the body
            // has ended and the run is storing its suspension, `wake` runs it again, to end interrupted.
            state.wake = true
            state.body?.unsafeInterruptAsFork(FiberId.none)
            return
          }
          if (state.status === "parked") {
            yield* journal.setStatus(executionId, "running", yield* now)
            state.status = "running"
            executions.set(executionId, state)
          }
          yield* start(state)
        }).pipe(Effect.orDie),

      resume: (_workflow, executionId) => resume(executionId),

      activityExecute: (activity, attempt) =>
        Effect.gen(function* () {
          const instance = yield* WorkflowInstance
          const state = executions.get(instance.executionId)
          const key = activityKey(activity.name, attempt)
          const stored = state?.results.get(key)
          if (stored !== undefined) return new Workflow.Complete({ exit: decodeStep(stored) })
          // An interrupted execution replays what it did, and starts nothing new.
          if (instance.interrupted) return yield* Effect.interrupt
          const activityInstance = yield* makeInstance(instance.workflow, instance.executionId)
          activityInstance.interrupted = instance.interrupted
          const result = yield* activity.executeEncoded.pipe(
            Workflow.intoResult,
            Effect.provideService(WorkflowInstance, activityInstance)
          )
          if (result._tag === "Complete" && state !== undefined) {
            const encoded = encodeStep(result.exit)
            yield* journal
              .putResult(instance.executionId, key, JSON.stringify(encoded))
              .pipe(Effect.catchAll(failedStoring))
            state.results.set(key, encoded)
            yield* logDebug("step stored", () => ({ executionId: instance.executionId, step: activity.name, attempt }))
          }
          return result
        }),

      deferredResult: (deferred) =>
        Effect.map(WorkflowInstance, (instance) => {
          const stored = executions.get(instance.executionId)?.results.get(deferredKey(deferred.name))
          return stored === undefined ? undefined : decodeStep(stored)
        }),

      deferredDone: (options) =>
        Effect.gen(function* () {
          const key = deferredKey(options.deferredName)
          const state = executions.get(options.executionId)
          if (state?.results.has(key)) return
          const encoded = encodeStep(options.exit)
          yield* journal
            .putResult(options.executionId, key, JSON.stringify(encoded))
            .pipe(Effect.catchAll(failedStoring))
          state?.results.set(key, encoded)
          yield* resume(options.executionId)
        }).pipe(Effect.orDie),

      scheduleClock: (workflow, options) =>
        Effect.gen(function* () {
          const { clock, executionId } = options
          const state = executions.get(executionId)
          // A clock that fired before is not set again: its deferred holds the wake-up.
          if (state?.results.has(deferredKey(clock.deferred.name))) return
          const at = yield* now
          const wakeAt = yield* journal
            .armClock(executionId, clock.name, at + Duration.toMillis(clock.duration))
            .pipe(Effect.catchAll(failedStoring))
          if (state !== undefined) state.hasClocks = true
          const fiberKey = `${executionId}/${clock.name}`
          clockKeys.set(executionId, clocksOf(executionId).add(fiberKey))
          yield* engine
            .deferredDone(clock.deferred, {
              workflowName: workflow.name,
              executionId,
              deferredName: clock.deferred.name,
              exit: Exit.void
            })
            .pipe(
              Effect.delay(Duration.millis(Math.max(0, wakeAt - at))),
              Effect.ensuring(
                Effect.sync(() => {
                  const keys = clockKeys.get(executionId)
                  keys?.delete(fiberKey)
                  if (keys?.size === 0) clockKeys.delete(executionId)
                })
              ),
              FiberMap.run(clocks, fiberKey, { onlyIfMissing: true })
            )
        }).pipe(Effect.orDie)
    })

    /**
     * `makeUnsafe`'s `execute` for a top-level execution, without its span annotation (untraced, it finds
     * no span, fails and is caught: a dozen operations per request). A child workflow's execution (one
     * with a `WorkflowInstance` around it) goes the library's way, for its link to the parent.
     */
    const executeTop: WorkflowEngine["Type"]["execute"] = (workflow, options) =>
      Effect.flatMap(Effect.serviceOption(WorkflowInstance), (parent) => {
        if (Option.isSome(parent)) return wrapped.execute(workflow, options)
        const run = execute(workflow, {
          executionId: options.executionId,
          payload: options.payload,
          discard: options.discard === true
        })
        if (options.discard) return Effect.as(run, options.executionId)
        return Effect.flatMap(run as Effect.Effect<Workflow.Result<unknown, unknown>>, (result) =>
          result._tag === "Complete"
            ? result.exit
            : untilComplete(
                workflow.name,
                run as Effect.Effect<Workflow.Result<unknown, unknown>>,
                options.suspendedRetrySchedule
              )
        )
      }) as any

    const engine: WorkflowEngine["Type"] = WorkflowEngine.of({
      ...wrapped,
      // As `makeUnsafe` registers, except that the registration's services are kept rather than merged
      // into the handler: `start` provides them with the instance and the engine, in one provision
      // instead of three (each a fiber-ref swap of a dozen operations).
      register: (workflow, execute) =>
        Effect.flatMap(Effect.context<never>(), (context) =>
          registerWith(
            workflow,
            (payload, executionId) =>
              Effect.suspend(() => execute(payload as any, executionId)) as Effect.Effect<
                unknown,
                unknown,
                WorkflowInstance | WorkflowEngine
              >,
            context
          )
        ) as any,
      execute: executeTop
    })
    return engine
  }
)

/** `makeUnsafe`'s wait for a suspended execution: polls it again on its schedule until it is complete. */
const defaultSuspendedRetrySchedule = Schedule.exponential(200, 1.5).pipe(Schedule.either(Schedule.spaced(30000)))
const untilComplete = (
  name: string,
  run: Effect.Effect<Workflow.Result<unknown, unknown>>,
  schedule: Schedule.Schedule<any, unknown> | undefined
) =>
  Effect.gen(function* () {
    const driver = yield* Schedule.driver(schedule ?? defaultSuspendedRetrySchedule)
    const sleep = driver
      .next(void 0)
      .pipe(Effect.catchAll(() => Effect.dieMessage(`${name}.execute: suspendedRetrySchedule exhausted`)))
    for (;;) {
      yield* sleep
      const result = yield* run
      if (result._tag === "Complete") return yield* result.exit
    }
  })

/** The engine on the SQL client of a store this process owns. */
export const layer: Layer.Layer<WorkflowEngine, SqlError, SqlClient.SqlClient> = Layer.scoped(WorkflowEngine, make)

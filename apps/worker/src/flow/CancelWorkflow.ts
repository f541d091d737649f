/**
 * The `CancelPaymentIntent` workflow: one durable execution per request, keyed by the request id, and
 * the interpreter of the flow's {@link Machine}.
 *
 * The machine decides; this module only runs what it says. Each command becomes one step of the
 * execution, named by its position in the sequence (`Cancel/1`, `Sleep/2`, `Read/3`, …): a `Cancel`
 * or `Read` is an activity that makes the call and returns what it told us (an {@link Machine.Event}),
 * a `Sleep` is a durable sleep, and `Finish` records the outcome. The machine is pure, so replaying an
 * execution after a restart gives the same commands with the same names, and every stored step
 * returns its stored result. (Names are part of the stored executions: `test/flow/Names.test.ts` pins
 * the sequences, so a change that would break replay fails a test.)
 *
 * Activities run at least once: one that was in flight when the process died runs again after the
 * restart. Every cancel of an execution therefore carries the same idempotency key (the execution's,
 * with the store's id), and each cancel step marks itself started in the store: a step that finds
 * itself started before sends nothing and says so (`NotSent`), and the machine reads first.
 *
 * When a call's answer ends the request, the activity records the outcome itself: on the happy path
 * that saves the engine a whole persisted step (`Finish` finds it recorded).
 *
 * A 401 or 403 is no event: it says nothing about the intent. The activity closes the process's gate
 * (no further call goes out; the batch stops, `serve` reports it) and waits there, so the request stays
 * pending and runs again, reading first, under the next process.
 */
import { createHash } from "node:crypto"
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as Workflow from "@effect/workflow/Workflow"
import { WorkflowEngine, WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import * as FlexClient from "@flex/http/FlexClient"
import type * as FlexError from "@flex/http/FlexError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import { CancelRequest } from "../core/CancelRequest.js"
import * as Metrics from "../core/Metrics.js"
import * as Outcome from "../core/Outcome.js"
import * as Gate from "../flex/Gate.js"
import { Store } from "../store/Store.js"
import * as Intent from "./Intent.js"
import * as Machine from "./Machine.js"
import * as Settings from "./Settings.js"

/** Which runner records an outcome (its runner address in cluster mode), for operators. */
export class RunnerName extends Context.Reference<RunnerName>()("@flex/worker/RunnerName", {
  defaultValue: () => "embedded"
}) {}

export const unattributed = Machine.unattributed

/** The stored form of a machine event. */
const EventSchema: Schema.Schema<Machine.Event> = Schema.Union(
  Schema.TaggedStruct("Ok", { intent: Intent.Snapshot }),
  Schema.TaggedStruct("Refused", { message: Schema.String }),
  Schema.TaggedStruct("Missing", { message: Schema.String }),
  Schema.TaggedStruct("Transient", { message: Schema.String, status: Schema.optional(Schema.Number) }),
  Schema.TaggedStruct("Throttled", { message: Schema.String, retryAfter: Schema.optional(Schema.Number) }),
  Schema.TaggedStruct("Unreadable", { message: Schema.String }),
  Schema.TaggedStruct("NotSent", { reason: Schema.Literal("rerun", "resumed") }),
  Schema.TaggedStruct("Slept", {})
)

/** What a call step stores: the event, and the outcome when the activity recorded it. */
const StepResult = Schema.Struct({ event: EventSchema, recorded: Schema.optional(Outcome.Outcome) })
type StepResult = typeof StepResult.Type

/** A request's key: its execution is the same one across runs and processes. */
const requestKey = (request: CancelRequest) => `${request.requestId}/${request.generation}`

export const CancelPaymentIntent = Workflow.make({
  name: "CancelPaymentIntent",
  payload: CancelRequest,
  success: Outcome.Outcome,
  idempotencyKey: requestKey
})

/**
 * `@effect/workflow`'s digest (the first 16 bytes of a SHA-256, in hex) with `node:crypto`: the same
 * ids and keys, synchronously and in about a microsecond, where WebCrypto's asynchronous digest took
 * some 6 % of the worker's CPU (two per request). `test/Keys.test.ts` pins that both agree.
 */
const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 32)

/** The execution id of a request, as `CancelPaymentIntent.executionId` computes it. */
export const executionId = (request: CancelRequest): string =>
  digest(`${CancelPaymentIntent.name}-${requestKey(request)}`)

/** `Activity.idempotencyKey("CancelIntent")` in the execution `executionId`. */
export const cancelKeyOf = (executionId: string): string => digest(`${executionId}-CancelIntent`)

/** `CancelPaymentIntent.execute`, with the execution id from {@link executionId}. */
export const execute = <const Discard extends boolean = false>(
  request: CancelRequest,
  options?: { readonly discard?: Discard }
) =>
  Effect.flatMap(WorkflowEngine, (engine) =>
    engine.execute(CancelPaymentIntent, {
      executionId: executionId(request),
      payload: request,
      discard: options?.discard
    })
  )

/** The step names of a command at a position: what stored executions are keyed by. */
export const stepName = (command: Machine.Command, position: number): string =>
  command._tag === "Finish" ? `Record/${position}` : `${command._tag}/${position}`

/** A call's failure as the machine sees it; `undefined` for a refused key (not an event). */
const classify = (error: FlexError.FlexError): Machine.Event | undefined => {
  switch (error._tag) {
    case "InvalidRequestError":
    case "ConflictError":
      return { _tag: "Refused", message: error.message }
    case "NotFoundError":
      return { _tag: "Missing", message: error.message }
    case "AuthenticationError":
    case "PermissionError":
      return undefined
    case "RateLimitError":
      return { _tag: "Throttled", message: error.message, retryAfter: error.retryAfter }
    case "DecodeError":
      // No field: the body was cut or not JSON, as a broken connection leaves it. A field: Flex sent
      // something the flow needs and cannot read, which no retry will change.
      return error.field === ""
        ? { _tag: "Transient", message: error.message, status: error.status }
        : { _tag: "Unreadable", message: error.message }
    case "ServerError":
      return { _tag: "Transient", message: error.message, status: error.status }
    case "ConnectionError":
    case "TimeoutError":
      return { _tag: "Transient", message: error.message }
  }
}

/** One value per key, made on first use. */
const memo = <K, A>(make: (key: K) => A) => {
  const made = new Map<K, A>()
  return (key: K): A => {
    let value = made.get(key)
    if (value === undefined) {
      value = make(key)
      made.set(key, value)
    }
    return value
  }
}

// The tagged counters, made once per label value: `Metric.tagged` on every call made a new metric (and
// its key, hashed again to find the registry's entry) per API call and per outcome.
const apiCallsOf = memo((statusClass: string) => Metric.tagged(Metrics.apiCalls, "status_class", statusClass))
const outcomesOf = memo((outcome: string) => Metric.tagged(Metrics.outcomes, "outcome", outcome))

// Every retry is the machine's (durable, reconciled, and counted in the outcome's API calls), so the
// client never retries inside an activity.
const noClientRetries = { maxRetries: 0, schema: Intent.View } as const

/**
 * Runs one API call, counts it, and turns its answer into an event. A refused key closes the gate and
 * waits there: the request stays pending.
 */
const call = <E extends FlexError.FlexError>(
  request: CancelRequest,
  effect: Effect.Effect<Intent.Viewed, E>
): Effect.Effect<Machine.Event, never, Gate.Gate> =>
  Effect.gen(function* () {
    const gate = yield* Gate.Gate
    const [elapsed, result] = yield* gate.track(Effect.timed(Effect.either(effect)))
    const status = result._tag === "Right" ? 200 : "status" in result.left ? result.left.status : undefined
    yield* Metric.increment(apiCallsOf(Metrics.statusClass(status)))
    yield* Metric.update(Metrics.apiLatency, Duration.toMillis(elapsed) / 1000)
    if (result._tag === "Right") {
      if (result.right.unread !== undefined) {
        yield* Effect.logWarning(
          "a part of the payment intent does not match this version's schema; the flow does not read it"
        ).pipe(Effect.annotateLogs({ paymentIntentId: request.paymentIntentId, field: result.right.unread }))
      }
      return { _tag: "Ok", intent: result.right.snapshot } as const
    }
    const event = classify(result.left)
    if (event !== undefined) return event
    yield* gate.reject(result.left.message)
    return yield* Effect.zipRight(gate.gate, Effect.never)
  })

/** This process, for telling a cancel step of ours from one a previous process (or runner) started. */
const session = crypto.randomUUID()

/**
 * Records an outcome: `ON CONFLICT DO NOTHING`, so an activity run twice (a crash between the write
 * and its reply) leaves the first, and returns the one stored.
 */
const record = (request: CancelRequest, outcome: Outcome.Outcome) =>
  Effect.contextWithEffect((context: Context.Context<Store>) =>
    Effect.tap(
      Effect.orDie(Context.get(context, Store).record(request.requestId, outcome, Context.get(context, RunnerName))),
      (recorded) => Metric.increment(outcomesOf(Outcome.key[recorded._tag]))
    )
  )

/** Records the outcome in the same activity when the machine says the event ends the request. */
const settle = (request: CancelRequest, state: Machine.State, event: Machine.Event) =>
  Effect.suspend((): Effect.Effect<StepResult, never, Store> => {
    const [, next] = Machine.step(state, event)
    if (!Machine.isFinish(next)) return Effect.succeed({ event })
    return Effect.map(record(request, next.outcome), (recorded) => ({ event, recorded }))
  })

/** The idempotency key of every cancel of this execution (see the Store's `id`). */
const cancelKey = Effect.contextWith((context: Context.Context<Store | WorkflowInstance>) => {
  const store = Context.get(context, Store)
  const key = cancelKeyOf(Context.get(context, WorkflowInstance).executionId)
  return store.id === undefined ? key : `${store.id}-${key}`
})

/**
 * What a step's activity needs of its execution, passed as a service: each step's activity is built
 * once per position and reused by every execution (building one per request rebuilt its exit and
 * cause schemas, about 2 ms of CPU per cancellation). The names are the same as ever.
 */
class StepInput extends Context.Tag("@flex/worker/CancelWorkflow/StepInput")<
  StepInput,
  { readonly request: CancelRequest; readonly state: Machine.State }
>() {}

class RecordInput extends Context.Tag("@flex/worker/CancelWorkflow/RecordInput")<
  RecordInput,
  { readonly request: CancelRequest; readonly outcome: Outcome.Outcome }
>() {}

/** One value per step position, made on first use. */
const perPosition = <A>(make: (position: number) => A) => memo(make)

const cancelStep = perPosition((position) =>
  Activity.make({
    name: `Cancel/${position}`,
    success: StepResult,
    execute: Effect.gen(function* () {
      // The services in one read rather than one `yield*` each.
      const context = yield* Effect.context<StepInput | Store | FlexClient.FlexClient>()
      const { request, state } = Context.get(context, StepInput)
      const store = Context.get(context, Store)
      const mark = yield* Effect.orDie(store.markAttempt(request.requestId, request.generation, position, session))
      if (mark.rerun) {
        // A process died in this step, maybe after recording the outcome: then that outcome stands.
        const stored = yield* Effect.orDie(store.outcome(request.requestId))
        const event: Machine.Event = { _tag: "NotSent", reason: "rerun" }
        return stored._tag === "Some" ? { event, recorded: stored.value } : { event }
      }
      if (mark.resumed) return { event: { _tag: "NotSent", reason: "resumed" } as const }
      const client = Context.get(context, FlexClient.FlexClient)
      const idempotencyKey = yield* cancelKey
      const event = yield* call(
        request,
        client.paymentIntents.cancel(request.paymentIntentId, { ...noClientRetries, idempotencyKey })
      )
      return yield* settle(request, state, event)
    })
  })
)

const readStep = perPosition((position) =>
  Activity.make({
    name: `Read/${position}`,
    success: StepResult,
    execute: Effect.gen(function* () {
      const context = yield* Effect.context<StepInput | FlexClient.FlexClient>()
      const { request, state } = Context.get(context, StepInput)
      const client = Context.get(context, FlexClient.FlexClient)
      const event = yield* call(request, client.paymentIntents.retrieve(request.paymentIntentId, noClientRetries))
      return yield* settle(request, state, event)
    })
  })
)

const recordStep = perPosition((position) =>
  Activity.make({
    name: `Record/${position}`,
    success: Outcome.Outcome,
    execute: Effect.flatMap(RecordInput, ({ outcome, request }) => record(request, outcome))
  })
)

const isSuspended = (result: Workflow.Result<unknown, unknown>) => result._tag === "Suspended"

/**
 * Runs a step's activity as `yield* activity` does (`Activity.make`'s own execute: the engine runs or
 * replays it, a suspension suspends the execution), without the span and the span annotation around it:
 * the worker runs untraced, so the annotation finds no span and fails, and both cost some twenty
 * operations per step for nothing.
 */
const runStep = <Success extends Schema.Schema.Any, Error extends Schema.Schema.All, R>(
  activity: Activity.Activity<Success, Error, R>
): Effect.Effect<
  Success["Type"],
  Error["Type"],
  Success["Context"] | Error["Context"] | R | WorkflowEngine | WorkflowInstance
> =>
  Effect.contextWithEffect((context: Context.Context<WorkflowEngine | WorkflowInstance>) => {
    const engine = Context.get(context, WorkflowEngine)
    const instance = Context.get(context, WorkflowInstance)
    return Effect.flatMap(
      Workflow.wrapActivityResult(
        engine.activityExecute(activity, Context.get(context, Activity.CurrentAttempt)),
        isSuspended
      ),
      (result): Effect.Effect<Success["Type"], Error["Type"]> =>
        result._tag === "Suspended" ? Workflow.suspend(instance) : result.exit
    )
  })

/** Runs the machine to its `Finish`, each command a step of the execution. */
export const interpret = (request: CancelRequest, executionId: string, limits: Machine.Limits) =>
  Effect.gen(function* () {
    let [state, command] = Machine.start(limits, executionId, request.paymentIntentId)
    for (;;) {
      let result: StepResult
      switch (command._tag) {
        case "Finish":
          return yield* Effect.provideService(runStep(recordStep(state.position)), RecordInput, {
            request,
            outcome: command.outcome
          })
        case "Sleep":
          yield* DurableClock.sleep({ name: `Sleep/${state.position}`, duration: Duration.millis(command.millis) })
          result = { event: { _tag: "Slept" } }
          break
        case "Cancel":
          result = yield* Effect.provideService(runStep(cancelStep(state.position)), StepInput, { request, state })
          break
        case "Read":
          result = yield* Effect.provideService(runStep(readStep(state.position)), StepInput, { request, state })
          break
      }
      if (result.recorded !== undefined) return result.recorded
      ;[state, command] = Machine.step(state, result.event)
    }
  })

export const layer = CancelPaymentIntent.toLayer((request, executionId) =>
  // The gauge up and, whatever the end, down again (`ensuring` where `acquireUseRelease` was: the same
  // pairing, with fewer operations).
  Effect.uninterruptibleMask((restore) =>
    Effect.zipRight(
      Metric.increment(Metrics.inFlight),
      Effect.ensuring(
        restore(
          Effect.flatMap(Settings.FlowSettings, (settings) =>
            interpret(request, executionId, Settings.limits(settings))
          )
        ),
        Metric.incrementBy(Metrics.inFlight, -1)
      )
    )
  )
)

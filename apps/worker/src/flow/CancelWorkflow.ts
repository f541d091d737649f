/**
 * The `CancelPaymentIntent` workflow: one durable execution per request, keyed by the request id.
 *
 * The API's rate limit is the scarce resource, so the happy path costs one call: cancel first. Only a
 * refusal (400/409/422) is classified with a read, and only an ambiguous failure (no response, a
 * timeout, a 429 or a 5xx: the cancel may have landed) is reconciled with a read before anything else
 * is sent. Every branch ends in a recorded outcome (`RecordOutcome`, or on the happy path the cancel
 * activity itself), so the workflow cannot end without exactly one.
 *
 * Activities run at least once: one that was in flight when the process died runs again after the
 * restart. Every cancel of an execution therefore carries the same idempotency key, derived from the
 * execution id (stable across re-runs and restarts), and each attempt marks itself started in the
 * store: a re-run reads the intent before it sends the cancel again. Code between activities is replayed, so it is deterministic: the
 * backoff jitter is seeded by the execution id.
 */
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as Workflow from "@effect/workflow/Workflow"
import type { PaymentIntent } from "@flex/domain"
import { PaymentIntentStatus } from "@flex/domain"
import { FlexClient, type FlexError } from "@flex/http"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import { CancelRequest } from "../core/CancelRequest.js"
import * as Metrics from "../core/Metrics.js"
import * as Outcome from "../core/Outcome.js"
import * as Gate from "../flex/Gate.js"
import { Store } from "../store/Store.js"

/** Tunables of the flow. */
export interface Settings {
  /** Cancel attempts before giving up. */
  readonly maxAttempts: number
  /** Reads spent trying to learn the state after an ambiguous failure, before giving up. */
  readonly maxReads: number
  /** The first backoff; it doubles per wait (with jitter), up to `maxDelay`. */
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
}

export const defaultSettings: Settings = {
  maxAttempts: 6,
  maxReads: 8,
  baseDelay: Duration.seconds(1),
  maxDelay: Duration.seconds(30)
}

export class FlowSettings extends Context.Reference<FlowSettings>()("@flex/worker/FlowSettings", {
  defaultValue: (): Settings => defaultSettings
}) {}

/** The settings from FLEX_WORKER_MAX_ATTEMPTS, FLEX_WORKER_BACKOFF_BASE and FLEX_WORKER_BACKOFF_MAX. */
export const settingsConfig = Config.all({
  maxAttempts: Config.integer("FLEX_WORKER_MAX_ATTEMPTS").pipe(
    Config.validate({ message: "FLEX_WORKER_MAX_ATTEMPTS must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(defaultSettings.maxAttempts)
  ),
  maxReads: Config.integer("FLEX_WORKER_MAX_READS").pipe(
    Config.validate({ message: "FLEX_WORKER_MAX_READS must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(defaultSettings.maxReads)
  ),
  baseDelay: Config.duration("FLEX_WORKER_BACKOFF_BASE").pipe(Config.withDefault(defaultSettings.baseDelay)),
  maxDelay: Config.duration("FLEX_WORKER_BACKOFF_MAX").pipe(Config.withDefault(defaultSettings.maxDelay))
})

export const settingsLayer = Layer.effect(FlowSettings, settingsConfig)

/** Which runner records an outcome (its runner address in cluster mode), for operators. */
export class RunnerName extends Context.Reference<RunnerName>()("@flex/worker/RunnerName", {
  defaultValue: () => "embedded"
}) {}

const Snapshot = Schema.Struct({
  status: Schema.String,
  amount: Schema.Number,
  amount_capturable: Schema.Number,
  amount_received: Schema.Number,
  capture_method: Schema.String,
  has_charge: Schema.Boolean
})
type Snapshot = typeof Snapshot.Type

/**
 * In the `lastError` of a `GaveUp` on an intent found canceled whose canceling could not be attributed:
 * a person checks whether its release was ours (the reliability checker looks for it too).
 */
export const unattributed = "whether by this request is unknown"

/** What one API call told us. Activities never fail: the workflow decides what each result means. */
const CallResult = Schema.Union(
  Schema.TaggedStruct("Ok", { intent: Snapshot }),
  /** 400/409/422: refused as the request stands (usually the intent's state). */
  Schema.TaggedStruct("Refused", { message: Schema.String }),
  Schema.TaggedStruct("Missing", { message: Schema.String }),
  /** 401/403. */
  Schema.TaggedStruct("Denied", { message: Schema.String }),
  /** The request may or may not have been applied; `status` is the HTTP status when one came back. */
  Schema.TaggedStruct("Transient", { message: Schema.String, status: Schema.optional(Schema.Number) }),
  /** 429: refused by the rate limiter before anything was done; wait `retryAfter` ms and send it again. */
  Schema.TaggedStruct("Throttled", { message: Schema.String, retryAfter: Schema.optional(Schema.Number) }),
  /** A 2xx body that does not match the schema (an unknown status, say): retrying cannot help. */
  Schema.TaggedStruct("Unreadable", { message: Schema.String })
)
type CallResult = typeof CallResult.Type

const snapshot = (intent: PaymentIntent.PaymentIntent): Snapshot => ({
  status: intent.status,
  amount: intent.amount,
  amount_capturable: intent.amount_capturable ?? 0,
  amount_received: intent.amount_received ?? 0,
  capture_method: intent.capture_method,
  has_charge: intent.latest_charge != null
})

const classify = (error: FlexError.FlexError): CallResult => {
  switch (error._tag) {
    case "InvalidRequestError":
    case "ConflictError":
      return { _tag: "Refused", message: error.message }
    case "NotFoundError":
      return { _tag: "Missing", message: error.message }
    case "AuthenticationError":
    case "PermissionError":
      return { _tag: "Denied", message: error.message }
    case "RateLimitError":
      return {
        _tag: "Throttled",
        message: error.message,
        ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter })
      }
    case "DecodeError":
      // No field: the body was cut or not JSON, as a broken connection leaves it. A field: Flex sent
      // something this version does not understand, which no retry will change.
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

/**
 * Runs one API call, counts it, and turns its result into a `CallResult`. (The client takes a slot of
 * the shared rate limiter before every request it sends.)
 */
const call = <E extends FlexError.FlexError>(
  effect: Effect.Effect<PaymentIntent.PaymentIntent, E>
): Effect.Effect<CallResult, never, Gate.Gate> =>
  Effect.flatMap(Gate.Gate, (drain) => drain.track(Effect.timed(Effect.either(effect)))).pipe(
    Effect.tap(([elapsed, result]) => {
      const status = result._tag === "Right" ? 200 : "status" in result.left ? result.left.status : undefined
      return Effect.zipRight(
        Metric.increment(Metric.tagged(Metrics.apiCalls, "status_class", Metrics.statusClass(status))),
        Metric.update(Metrics.apiLatency, Duration.toMillis(elapsed) / 1000)
      )
    }),
    Effect.map(
      ([, result]): CallResult =>
        result._tag === "Right" ? { _tag: "Ok", intent: snapshot(result.right) } : classify(result.left)
    )
  )

// Every retry is the workflow's (durable, reconciled, and counted in the outcome's API calls), so the
// client itself never retries inside an activity.
const noClientRetries = { maxRetries: 0 }

export const CancelPaymentIntent = Workflow.make({
  name: "CancelPaymentIntent",
  payload: CancelRequest,
  success: Outcome.Outcome,
  idempotencyKey: (request) => `${request.requestId}/${request.generation}`
})

const fetchIntent = (request: CancelRequest, n: number) =>
  Activity.make({
    name: `FetchIntent/${n}`,
    success: Schema.Struct({ result: CallResult, calls: Schema.Number }),
    execute: Effect.gen(function* () {
      const client = yield* FlexClient.FlexClient
      const result = yield* call(client.paymentIntents.retrieve(request.paymentIntentId, noClientRetries))
      return { result, calls: 1 }
    })
  })

/** This process, for telling an attempt of ours from one a previous process (or runner) made. */
const session = crypto.randomUUID()

/**
 * Records an outcome: `ON CONFLICT DO NOTHING`, so an activity run twice (a crash between the write
 * and its reply) leaves the first, and returns the one stored.
 */
const record = (request: CancelRequest, outcome: Outcome.Outcome) =>
  Effect.gen(function* () {
    const store = yield* Store
    const runner = yield* RunnerName
    return yield* Effect.orDie(store.record(request.requestId, outcome, runner))
  }).pipe(
    Effect.tap((recorded) => Metric.increment(Metric.tagged(Metrics.outcomes, "outcome", Outcome.key[recorded._tag])))
  )

/**
 * One cancel attempt. When its answer settles the request (`settles` gives the outcome), the outcome
 * is recorded in this same activity: on the happy path that saves the engine a whole persisted
 * message and reply (`RecordOutcome`), about a third of its work per request.
 */
const cancelIntent = (
  request: CancelRequest,
  attempt: number,
  settles: (intent: Snapshot, calls: number) => Outcome.Outcome | undefined
) =>
  Activity.make({
    name: `CancelIntent/${attempt}`,
    success: Schema.Struct({ result: CallResult, calls: Schema.Number, recorded: Schema.optional(Outcome.Outcome) }),
    execute: Effect.gen(function* () {
      const client = yield* FlexClient.FlexClient
      const store = yield* Store
      // One key per execution, whatever the attempt: a re-sent cancel is recognisably the same request,
      // so a server that honours the key replays the first answer instead of acting twice.
      const idempotencyKey = yield* Activity.idempotencyKey("CancelIntent")
      const mark = yield* Effect.orDie(store.markAttempt(request.requestId, request.generation, attempt, session))
      let calls = 0
      if (mark.rerun || mark.resumed) {
        // A process died in this attempt, or the request comes back after a stop (its key may have
        // expired meanwhile): read before anything is sent.
        calls++
        const read = yield* call(client.paymentIntents.retrieve(request.paymentIntentId, noClientRetries))
        if (read._tag !== "Ok") return { result: read, calls }
        // Neither cancelable nor canceled (succeeded, processing): the workflow judges the state.
        if (read.intent.status !== "canceled" && !isCancelable(read.intent.status)) return { result: read, calls }
        // Canceled: ours or someone else's? The cancel below, with the same key, tells (see the workflow).
      }
      calls++
      const result = yield* call(
        client.paymentIntents.cancel(request.paymentIntentId, { ...noClientRetries, idempotencyKey })
      )
      const outcome = result._tag === "Ok" ? settles(result.intent, calls) : undefined
      return outcome === undefined ? { result, calls } : { result, calls, recorded: yield* record(request, outcome) }
    })
  })

const recordOutcome = (request: CancelRequest, outcome: Outcome.Outcome) =>
  Activity.make({ name: "RecordOutcome", success: Outcome.Outcome, execute: record(request, outcome) })

const isCancelable = (status: string): boolean =>
  (PaymentIntentStatus.statuses as ReadonlyArray<string>).includes(status) &&
  PaymentIntentStatus.cancelability(status as PaymentIntentStatus.Status)._tag === "Cancelable"

/**
 * The amount a cancel released. A known pre-cancel read gives it exactly (`amount_capturable`); from
 * the cancel response alone, an intent that held an authorization (manual capture with a charge) had
 * `amount - amount_received` on hold, and one that never got that far released nothing.
 */
const released = (after: Snapshot, before: Snapshot | undefined): number => {
  if (before !== undefined && before.status !== "canceled") return before.amount_capturable
  return after.capture_method === "manual" && after.has_charge ? after.amount - after.amount_received : 0
}

/** Deterministic jitter in [0, 1): replays of the workflow must sleep the same. */
const jitter = (seed: string): number => {
  let hash = 2166136261
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i)
    hash = Math.imul(hash, 16777619)
  }
  return (hash >>> 0) / 4294967296
}

export const layer = CancelPaymentIntent.toLayer((request, executionId) =>
  Effect.gen(function* () {
    const settings = yield* FlowSettings
    let apiCalls = 0
    let attempts = 0
    let reads = 0
    let sleeps = 0
    let throttled = 0
    // Every activity needs a name of its own: a repeated name would replay the stored result.
    let sends = 0
    let lastError = ""
    let before: Snapshot | undefined
    const details = () => ({ paymentIntentId: request.paymentIntentId, attempts, apiCalls })
    // A 429 says nothing about the intent, so it does not use up an attempt, but it is bounded too.
    const maxThrottled = settings.maxAttempts * 5

    const backoff = (retryAfter?: number) => {
      sleeps++
      const exp = Math.min(
        Duration.toMillis(settings.baseDelay) * 2 ** (sleeps - 1),
        Duration.toMillis(settings.maxDelay)
      )
      const wait = Math.max(exp * (0.5 + 0.5 * jitter(`${executionId}/${sleeps}`)), retryAfter ?? 0)
      return DurableClock.sleep({ name: `backoff/${sleeps}`, duration: Duration.millis(Math.round(wait)) })
    }

    /** `calls`: made by the activity that saw it, not yet counted in `apiCalls`. */
    const canceled = (intent: Snapshot, calls: number) =>
      new Outcome.Canceled({
        ...details(),
        apiCalls: apiCalls + calls,
        status: "canceled",
        amountReleased: released(intent, before)
      })
    let recordedByActivity = false

    const gaveUp = (error: string, status = before?.status) =>
      new Outcome.GaveUp({ ...details(), ...(status === undefined ? {} : { status }), lastError: error })

    /**
     * Set when a read after an ambiguous cancel finds the intent canceled: by our cancel, or by someone
     * else before it? The next cancel, sent with the same idempotency key, tells: a server that honours
     * the key replays our first answer (200: ours, `Canceled`); a refusal means our earlier cancel never
     * acted (`AlreadyCanceled`). A server that ignored keys would make an intent we canceled read as
     * `AlreadyCanceled`: the worker never claims a release it cannot show. Confirming cancels have a
     * budget of their own (`maxAttempts` again): the attempts may be spent by the time the question
     * comes up, and the answer decides whose money moved.
     */
    let confirming = false
    let confirms = 0
    /** A confirming cancel was answered 200 with a body cut short: the replay of our own 200. */
    let replayedOurs = false

    /** What a successful read means: an outcome, or `undefined` when a cancel should be sent (again). */
    const judge = (intent: Snapshot, afterAmbiguous: boolean): Outcome.Outcome | undefined => {
      const status = intent.status
      if (status === "canceled") {
        if (!afterAmbiguous) return new Outcome.AlreadyCanceled({ ...details(), status })
        if (replayedOurs)
          return new Outcome.Canceled({ ...details(), status, amountReleased: released(intent, before) })
        confirming = true
        return undefined
      }
      const verdict = PaymentIntentStatus.cancelability(status as PaymentIntentStatus.Status)
      if (verdict._tag === "NotCancelable" && !verdict.retryLater) {
        return new Outcome.NotCancelable({ ...details(), status, reason: verdict.reason })
      }
      before = intent
      if (verdict._tag === "NotCancelable") lastError = `${status}: ${verdict.reason}`
      return undefined
    }

    /**
     * Reads until the intent's state is known or the read budget is spent. Never sends a cancel: after
     * an ambiguous failure nothing is sent again before a read says whether the last one landed.
     */
    const settle = (afterAmbiguous: boolean) =>
      Effect.gen(function* () {
        let failedReads = 0
        while (failedReads < settings.maxReads && throttled < maxThrottled) {
          reads++
          const { result, calls } = yield* fetchIntent(request, reads)
          apiCalls += calls
          switch (result._tag) {
            case "Ok":
              return judge(result.intent, afterAmbiguous)
            case "Missing":
              return new Outcome.NotFound(details())
            case "Denied":
              return new Outcome.Rejected({ ...details(), reason: result.message })
            case "Unreadable":
              return gaveUp(result.message)
            case "Throttled":
              throttled++
              lastError = result.message
              yield* backoff(result.retryAfter)
              break
            case "Refused":
            case "Transient":
              failedReads++
              lastError = result.message
              yield* backoff()
          }
        }
        return gaveUp(`${lastError} (the intent's state could not be read)`)
      })

    const decide = Effect.gen(function* () {
      while (throttled < maxThrottled) {
        if ((confirming ? confirms : attempts) >= settings.maxAttempts) break
        if (confirming) confirms++
        else attempts++
        sends++
        const { result, calls, recorded } = yield* cancelIntent(request, sends, (intent, calls) =>
          intent.status === "canceled" ? canceled(intent, calls) : undefined
        )
        apiCalls += calls
        let settled: Outcome.Outcome | undefined
        switch (result._tag) {
          case "Ok":
            if (result.intent.status === "canceled") {
              // Recorded by the activity (an execution stored by an earlier version may lack it).
              if (recorded !== undefined) {
                recordedByActivity = true
                return recorded
              }
              return canceled(result.intent, 0)
            }
            // A 200 that did not cancel (or a read that found the intent past cancelling): judge it.
            lastError = `the intent is ${result.intent.status}`
            settled = judge(result.intent, false)
            break
          case "Missing":
            return new Outcome.NotFound(details())
          case "Denied":
            return new Outcome.Rejected({ ...details(), reason: result.message })
          case "Throttled":
            throttled++
            if (confirming) confirms--
            else attempts--
            lastError = result.message
            yield* backoff(result.retryAfter)
            continue
          case "Refused":
            // Known canceled and our same-key cancel refused: our earlier cancel never acted.
            if (confirming) return new Outcome.AlreadyCanceled({ ...details(), status: "canceled" })
            // Usually the intent's state: a read says which.
            lastError = result.message
            settled = yield* settle(false)
            break
          case "Transient":
          case "Unreadable":
            // The cancel may have landed: wait, then read before anything else.
            lastError = result.message
            // Only our own first answer, replayed, can be a 200 to a confirming cancel (an intent canceled
            // by someone else is refused): the body is lost, the read that follows gives the amounts.
            if (confirming && result._tag === "Transient" && result.status === 200) replayedOurs = true
            yield* backoff()
            settled = yield* settle(true)
            break
        }
        if (settled !== undefined) return settled
        // A confirming cancel goes out at once; any other retry waits.
        if (attempts < settings.maxAttempts && !confirming) yield* backoff()
      }
      // Canceled for sure, but whose cancel it was stayed unknown: neither claim a release nor deny one.
      // A person checks it (the report lists every GaveUp).
      if (confirming) {
        return gaveUp(
          `canceled, but ${unattributed} (${confirms} confirming cancels unanswered; last: ${lastError})`,
          "canceled"
        )
      }
      // Still processing after every attempt: not cancelable for now, and a person should know.
      if (before?.status === "processing") {
        return new Outcome.NotCancelable({
          ...details(),
          status: "processing",
          reason: `still processing after ${attempts} attempts; try again once it settles`
        })
      }
      return gaveUp(lastError)
    })

    const outcome = yield* decide
    return recordedByActivity ? outcome : yield* recordOutcome(request, outcome)
  }).pipe((run) =>
    Effect.acquireUseRelease(
      Metric.increment(Metrics.inFlight),
      () => run,
      () => Metric.incrementBy(Metrics.inFlight, -1)
    )
  )
)

/**
 * The cancellation flow as a pure state machine: every decision the worker makes about one request,
 * and nothing else (no engine, no HTTP, no clock).
 *
 * The flow sees {@link Event}s (what one API call answered, or that a sleep ended) and issues
 * {@link Command}s (`Cancel`, `Read`, `Sleep`, `Finish`). {@link start} gives the first command,
 * {@link step} each next one; the workflow (`CancelWorkflow`) runs the commands and feeds their results
 * back. Budgets, counters and the amount-released rule live in {@link State}, nowhere else, so the
 * same events always give the same commands: that is what lets a durable execution be replayed.
 *
 * The rules that move money:
 * - The happy path is one call: cancel first. A 200 `canceled` to our cancel is `Canceled`.
 * - A refusal (400/409/422) is classified with a read (`AlreadyCanceled`, `NotCancelable`, ...).
 * - After an ambiguous cancel (no answer, a timeout, a 5xx, a cut body, or a cancel whose process
 *   died) nothing is sent again before a read has said what happened. A read that finds the intent
 *   canceled does not tell whose cancel it was, so a confirming cancel with the same idempotency key
 *   asks: a server that honours the key replays our first answer (200: ours, `Canceled`); a refusal
 *   means our cancel never acted (`AlreadyCanceled`). `Canceled` is only ever recorded after a 200 to
 *   one of our cancels.
 * - A 429 did nothing: wait for `Retry-After` (capped as the client caps it) and send the same again.
 *   It uses no attempt, but 429s are bounded too.
 * - When the budgets run out, `GaveUp` says what is known: never a guess about whose release it was.
 */
import * as PaymentIntentStatus from "@flex/domain/PaymentIntentStatus"
import * as RetryPolicy from "@flex/http/RetryPolicy"
import * as Outcome from "../core/Outcome.js"
import type { Snapshot } from "./Intent.js"

/** The budgets of one request, and the backoff between its calls. */
export interface Limits {
  /** Cancel attempts (POSTs that may act), not counting 429s and confirming cancels. */
  readonly maxAttempts: number
  /** Failed reads in a row before the intent's state counts as unknowable for now. */
  readonly maxReads: number
  /**
   * Failed reads in a row after an ambiguous cancel. Deeper than `maxReads`: whether our cancel
   * landed must be learnt before anything is claimed, and a read is safe to repeat.
   */
  readonly maxReadsAfterAmbiguous: number
  /** Confirming cancels (same key, intent known canceled) before its attribution counts as unknown. */
  readonly maxConfirms: number
  /** 429s over the whole request. */
  readonly maxThrottled: number
  /** The backoff: `@flex/http`'s formula, with `Retry-After` capped at `maxRetryAfter`. */
  readonly backoff: RetryPolicy.RetryPolicy
}

/** What one call told the flow, or that a sleep is over. */
export type Event =
  /** A 2xx whose status and amounts were read. */
  | { readonly _tag: "Ok"; readonly intent: Snapshot }
  /** 400/409/422: refused as the request stands (usually the intent's state). */
  | { readonly _tag: "Refused"; readonly message: string }
  /** 404. */
  | { readonly _tag: "Missing"; readonly message: string }
  /** No answer, a timeout, a 5xx or a cut body: a cancel may or may not have acted. `status`: the HTTP status, if any. */
  | { readonly _tag: "Transient"; readonly message: string; readonly status?: number | undefined }
  /** 429: nothing was done. `retryAfter` in milliseconds. */
  | { readonly _tag: "Throttled"; readonly message: string; readonly retryAfter?: number | undefined }
  /** A 2xx whose status or amounts could not be read: the call did act, but what it says is unknown. */
  | { readonly _tag: "Unreadable"; readonly message: string }
  /**
   * A cancel that was not sent because this step had been started before (`rerun`: a process died
   * in it, so that earlier cancel may have gone out) or the request's previous cancel was made by
   * another process (`resumed`: after a stop or a failover, its state may have moved on).
   */
  | { readonly _tag: "NotSent"; readonly reason: "rerun" | "resumed" }
  /** The sleep of the last `Sleep` command is over. */
  | { readonly _tag: "Slept" }

export type Command =
  /** Send a cancel, with the request's idempotency key. */
  | { readonly _tag: "Cancel" }
  /** Read the intent. */
  | { readonly _tag: "Read" }
  /** Sleep durably, then say `Slept`. */
  | { readonly _tag: "Sleep"; readonly millis: number }
  /** Record this outcome; the request is done. */
  | { readonly _tag: "Finish"; readonly outcome: Outcome.Outcome }

/** Which command the flow is waiting on the result of. */
export type Phase =
  /** A cancel attempt. */
  | "Canceling"
  /** A confirming cancel: the intent is known canceled, and the question is whether by us. */
  | "Confirming"
  | "Reading"
  /** A sleep, after which `next` is sent. */
  | "Waiting"
  | "Done"

export interface State {
  readonly limits: Limits
  /** Seeds the backoff jitter (the execution id), so that replays sleep the same. */
  readonly seed: string
  readonly paymentIntentId: string
  readonly phase: Phase
  /** After a sleep: what to send (a cancel attempt, a confirming cancel, or a read). */
  readonly next: "Attempt" | "Confirm" | "Read"
  /** Commands issued so far: the last command's position in the sequence (names its activity). */
  readonly position: number
  /** Cancel attempts answered (a 429 is no attempt: it did nothing). */
  readonly attempts: number
  /** Confirming cancels answered. */
  readonly confirms: number
  readonly throttled: number
  /** Failed reads in a row. */
  readonly failedReads: number
  /** Backoffs taken (the exponent of the next one). */
  readonly sleeps: number
  /** API calls made (every event but `NotSent` and `Slept` is one). */
  readonly apiCalls: number
  /** A cancel of ours may have acted and no read has said so since. */
  readonly ambiguous: boolean
  /** A confirming cancel was answered 200 with its body cut: the replay of our own 200. */
  readonly replayedOurs: boolean
  /** The last state read before a cancel, when it was not canceled: what a cancel releases. */
  readonly before: Snapshot | undefined
  readonly lastError: string
}

/**
 * In a `GaveUp`'s reason: the intent is canceled but whether by this request is unknown (a person
 * checks whether its release was ours; the reliability checker looks for it too).
 */
export const unattributed = "whether by this request is unknown"

/** In a `GaveUp`'s reason: a cancel of ours may have landed, and no read could say. */
export const unsettled = "whether its cancel landed is unknown"

/** In the `GaveUp` of a request that found the intent processing on every attempt: how to run it again. */
export const retryAdvice =
  "run it again once it settles (flex-worker cancel --retry-gave-up, or retry_gave_up in the API)"

const initial = (limits: Limits, seed: string, paymentIntentId: string): State => ({
  limits,
  seed,
  paymentIntentId,
  phase: "Canceling",
  next: "Attempt",
  position: 0,
  attempts: 0,
  confirms: 0,
  throttled: 0,
  failedReads: 0,
  sleeps: 0,
  apiCalls: 0,
  ambiguous: false,
  replayedOurs: false,
  before: undefined,
  lastError: ""
})

/** The first command: cancel. */
export const start = (limits: Limits, seed: string, paymentIntentId: string): readonly [State, Command] =>
  attempt(initial(limits, seed, paymentIntentId))

/** What the flow does next, given what the last command's result was. */
export const step = (state: State, event: Event): readonly [State, Command] => {
  if (state.phase === "Done") return [state, finish(state, gaveUp(state, "step after the request was done"))[1]]
  return table[state.phase](count(state, event), event)
}

/** Whether a command ends the flow. */
export const isFinish = (command: Command): command is Extract<Command, { _tag: "Finish" }> => command._tag === "Finish"

// ---------------------------------------------------------------------------------------------------
// The table: one row per phase, one decision per event.

type Row = (state: State, event: Event) => readonly [State, Command]

const table: { readonly [P in Exclude<Phase, "Done">]: Row } = {
  Canceling: (s, e) => {
    switch (e._tag) {
      case "Ok":
        return e.intent.status === "canceled"
          ? finish(s, canceled(s, e.intent))
          : judge({ ...s, lastError: `the intent is ${e.intent.status}` }, e.intent)
      case "Refused":
        return read({ ...s, lastError: e.message })
      case "Missing":
        return finish(s, notFound(s))
      case "Transient":
      case "Unreadable":
        return sleepThen({ ...s, ambiguous: true, lastError: e.message }, "Read")
      case "NotSent":
        return read({ ...s, ambiguous: true, lastError: lastErrorOf(s, e) })
      case "Throttled":
        return throttled(s, e, "Attempt")
      case "Slept":
        return unexpected(s, e)
    }
  },
  Confirming: (s, e) => {
    switch (e._tag) {
      case "Ok":
        // Only our own first answer, replayed, is a 200 to a cancel of a canceled intent.
        return e.intent.status === "canceled" ? finish(s, canceled(s, e.intent)) : judge(s, e.intent)
      case "Refused":
        // Known canceled, and our key's cancel refused: none of our cancels acted.
        return finish(s, alreadyCanceled(s))
      case "Missing":
        return finish(s, notFound(s))
      case "Transient":
        // A 200 whose body was cut: the replay of our own 200 (the read that follows gives the amounts).
        return sleepThen(
          { ...s, ambiguous: true, replayedOurs: s.replayedOurs || e.status === 200, lastError: e.message },
          "Read"
        )
      case "Unreadable":
        return sleepThen({ ...s, ambiguous: true, replayedOurs: true, lastError: e.message }, "Read")
      case "NotSent":
        return read({ ...s, ambiguous: true, lastError: lastErrorOf(s, e) })
      case "Throttled":
        return throttled(s, e, "Confirm")
      case "Slept":
        return unexpected(s, e)
    }
  },
  Reading: (s, e) => {
    switch (e._tag) {
      case "Ok": {
        const known = { ...s, failedReads: 0 }
        if (e.intent.status !== "canceled") return judge({ ...known, ambiguous: false }, e.intent)
        if (!s.ambiguous) return finish(known, alreadyCanceled(known))
        if (s.replayedOurs) return finish(known, canceled(known, e.intent))
        return confirm(known)
      }
      case "Missing":
        return finish(s, notFound(s))
      case "Refused":
      case "Transient":
        return readFailed(s, e.message)
      case "Unreadable":
        // A 200 this version cannot read: reading again would read the same.
        return finish(s, gaveUp(s, s.ambiguous ? `${e.message} (${unsettled})` : e.message))
      case "Throttled":
        return throttled(s, e, "Read")
      case "NotSent":
      case "Slept":
        return unexpected(s, e)
    }
  },
  Waiting: (s, e) => {
    if (e._tag !== "Slept") return unexpected(s, e)
    switch (s.next) {
      case "Read":
        return read(s)
      case "Confirm":
        return confirm(s)
      case "Attempt":
        return attempt(s)
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The decisions the rows share.

/**
 * Counts the call an event reports, and the attempt or confirm it answered: a 429 did nothing and a
 * cancel not sent was none, so neither uses one up.
 */
const count = (state: State, event: Event): State => {
  if (event._tag === "NotSent" || event._tag === "Slept") return state
  const apiCalls = state.apiCalls + 1
  if (event._tag === "Throttled") return { ...state, apiCalls }
  if (state.phase === "Canceling") return { ...state, apiCalls, attempts: state.attempts + 1 }
  if (state.phase === "Confirming") return { ...state, apiCalls, confirms: state.confirms + 1 }
  return { ...state, apiCalls }
}

const issue = (state: State, command: Command): readonly [State, Command] => [
  { ...state, position: state.position + 1 },
  command
]

const finish = (state: State, outcome: Outcome.Outcome): readonly [State, Command] =>
  issue({ ...state, phase: "Done" }, { _tag: "Finish", outcome })

const read = (state: State): readonly [State, Command] => issue({ ...state, phase: "Reading" }, { _tag: "Read" })

/** A cancel attempt, if any is left. */
const attempt = (state: State): readonly [State, Command] =>
  state.attempts >= state.limits.maxAttempts
    ? outOfAttempts(state)
    : issue({ ...state, phase: "Canceling" }, { _tag: "Cancel" })

/** The intent is known canceled after an ambiguous cancel: ask with our key whose cancel it was. */
const confirm = (state: State): readonly [State, Command] =>
  state.confirms >= state.limits.maxConfirms
    ? finish(
        state,
        gaveUp(
          state,
          `canceled, but ${unattributed} (${state.confirms} confirming cancels unanswered; last: ${state.lastError})`,
          "canceled"
        )
      )
    : issue({ ...state, phase: "Confirming" }, { _tag: "Cancel" })

/** A successful read (or a 200 that did not cancel) of an intent that is not canceled. */
const judge = (state: State, intent: Snapshot): readonly [State, Command] => {
  const status = intent.status
  if (!isKnownStatus(status)) {
    return finish(
      state,
      gaveUp(state, `the intent's status is ${JSON.stringify(status)}, which this version does not know`, status)
    )
  }
  const verdict = PaymentIntentStatus.cancelability(status)
  switch (verdict._tag) {
    case "AlreadyCanceled":
      return finish(state, alreadyCanceled(state))
    case "NotCancelable":
      if (!verdict.retryLater) {
        return finish(state, new Outcome.NotCancelable({ ...details(state), status, reason: verdict.reason }))
      }
      // Processing: it may become cancelable; wait and try again while attempts last.
      return retryCancel({ ...state, before: intent, lastError: `${status}: ${verdict.reason}` })
    case "Cancelable":
      return retryCancel({ ...state, before: intent })
  }
}

/** Cancel again after a backoff, while attempts last. */
const retryCancel = (state: State): readonly [State, Command] =>
  state.attempts >= state.limits.maxAttempts ? outOfAttempts(state) : sleepThen(state, "Attempt")

const outOfAttempts = (state: State): readonly [State, Command] => {
  if (state.before?.status === "processing") {
    return finish(
      state,
      gaveUp(
        state,
        `still processing after ${state.attempts} attempt${state.attempts === 1 ? "" : "s"}; ${retryAdvice}`,
        "processing"
      )
    )
  }
  return finish(state, gaveUp(state, state.lastError))
}

const readFailed = (state: State, message: string): readonly [State, Command] => {
  const failed = { ...state, failedReads: state.failedReads + 1, lastError: message }
  const budget = state.ambiguous ? state.limits.maxReadsAfterAmbiguous : state.limits.maxReads
  if (failed.failedReads >= budget) {
    return finish(
      failed,
      gaveUp(
        failed,
        state.ambiguous
          ? `${message} (the intent's state could not be read: ${unsettled})`
          : `${message} (the intent's state could not be read)`
      )
    )
  }
  return sleepThen(failed, "Read")
}

const throttled = (
  state: State,
  event: Extract<Event, { _tag: "Throttled" }>,
  again: State["next"]
): readonly [State, Command] => {
  const s = { ...state, throttled: state.throttled + 1, lastError: event.message }
  if (s.throttled > s.limits.maxThrottled) {
    const why = `rate limited ${s.throttled} times (last: ${event.message})`
    return finish(s, gaveUp(s, s.ambiguous ? `${why}: ${unsettled}` : why))
  }
  return sleepThen(s, again, event.retryAfter)
}

/** A durable backoff (the client's formula, jitter seeded by the execution), then `next`. */
const sleepThen = (state: State, next: State["next"], retryAfter?: number): readonly [State, Command] => {
  const millis = backoffMillis(state, retryAfter)
  return issue({ ...state, phase: "Waiting", next, sleeps: state.sleeps + 1 }, { _tag: "Sleep", millis })
}

/** The wait before the next call: exponential in the backoffs taken, `Retry-After` capped. */
export const backoffMillis = (state: State, retryAfter?: number): number =>
  RetryPolicy.backoffMillis(state.limits.backoff, state.sleeps, jitter(`${state.seed}/${state.sleeps + 1}`), retryAfter)

/** Deterministic jitter in [0, 1) from a seed (FNV-1a): replays of a workflow must sleep the same. */
export const jitter = (seed: string): number => {
  let hash = 2166136261
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i)
    hash = Math.imul(hash, 16777619)
  }
  return (hash >>> 0) / 4294967296
}

const unexpected = (state: State, event: Event): readonly [State, Command] =>
  finish(state, gaveUp(state, `internal: ${event._tag} while ${state.phase}`))

const lastErrorOf = (state: State, event: Extract<Event, { _tag: "NotSent" }>) =>
  event.reason === "rerun"
    ? "the process stopped during a cancel"
    : state.lastError === ""
      ? "resumed after a stop"
      : state.lastError

const isKnownStatus = (status: string): status is PaymentIntentStatus.Status =>
  (PaymentIntentStatus.statuses as ReadonlyArray<string>).includes(status)

// ---------------------------------------------------------------------------------------------------
// Outcomes.

const details = (state: State) => ({
  paymentIntentId: state.paymentIntentId,
  attempts: state.attempts + state.confirms,
  apiCalls: state.apiCalls
})

/**
 * The amount a cancel released. Only an authorized intent (`requires_capture`) holds money, and its
 * hold changes only by a capture (which ends its cancelability) or a cancel: so a read that found it
 * `requires_capture` gives the amount exactly (`amount_capturable`), however long before the cancel.
 * An older read (processing, say) says nothing of the hold; then the cancel's own answer tells: an
 * intent that held an authorization (manual capture with a charge) had `amount - amount_received` on
 * hold, and one that never got that far released nothing.
 */
export const released = (after: Snapshot, before: Snapshot | undefined): number => {
  if (before?.status === "requires_capture") return before.amount_capturable
  return after.capture_method === "manual" && after.has_charge ? after.amount - after.amount_received : 0
}

const canceled = (state: State, intent: Snapshot) =>
  new Outcome.Canceled({ ...details(state), status: "canceled", amountReleased: released(intent, state.before) })

const alreadyCanceled = (state: State) => new Outcome.AlreadyCanceled({ ...details(state), status: "canceled" })

const notFound = (state: State) => new Outcome.NotFound(details(state))

const gaveUp = (state: State, lastError: string, status = state.before?.status) =>
  new Outcome.GaveUp({ ...details(state), ...(status === undefined ? {} : { status }), lastError })

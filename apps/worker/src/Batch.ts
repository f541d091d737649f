/**
 * A batch of cancellations: read inputs as a stream, validate them, collapse duplicates, skip requests
 * that already have an outcome, run the rest through the workflow with bounded concurrency, and total
 * up a report. Requests left pending by an earlier run (a crash, an interrupted batch) join the batch.
 */
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as CancelRequest from "./CancelRequest.js"
import * as CancelWorkflow from "./CancelWorkflow.js"
import type * as Outcome from "./Outcome.js"
import * as Report from "./Report.js"
import { Store } from "./Store.js"

export type Input =
  | { readonly _tag: "Intent"; readonly line: number; readonly paymentIntentId: string; readonly reason?: string }
  | { readonly _tag: "Invalid"; readonly line: number; readonly text: string; readonly problem: string }

export interface Options {
  readonly concurrency: number
  /** Run requests whose stored outcome is GaveUp again, as a new generation. */
  readonly retryGaveUp: boolean
  /** Called after each request reaches its outcome (progress display). */
  readonly onOutcome?: (done: number, outcome: Outcome.Outcome) => void
  /** Called for each rejected input line. */
  readonly onInvalid?: (input: Extract<Input, { _tag: "Invalid" }>) => void
}

export const run = <R>(
  inputs: Stream.Stream<Input, Report.InputError, R>,
  options: Options
): Effect.Effect<
  Report.Report,
  Report.InputError | import("@effect/sql/SqlError").SqlError,
  Store | WorkflowEngine | R
> =>
  Effect.gen(function* () {
    const store = yield* Store
    const report = Report.empty()
    const seen = new Set<string>()
    let done = 0

    const settle = (request: CancelRequest.CancelRequest) =>
      Effect.gen(function* () {
        const stored = yield* store.outcome(request.requestId)
        let outcome: Outcome.Outcome
        let fresh = true
        if (Option.isSome(stored) && !(options.retryGaveUp && stored.value._tag === "GaveUp")) {
          // Submitted before: its outcome stands, and no API call is made.
          outcome = stored.value
          fresh = false
          report.resubmitted++
        } else {
          let current = yield* store.accept(request)
          if (Option.isSome(stored)) {
            current = Option.getOrElse(yield* store.retryGaveUp(request.requestId), () => current)
          }
          outcome = yield* CancelWorkflow.CancelPaymentIntent.execute(current)
        }
        Report.add(report, outcome, fresh)
        done++
        options.onOutcome?.(done, outcome)
      })

    const fresh = inputs.pipe(
      Stream.filterMap((input) => {
        if (input._tag === "Invalid") {
          report.invalidLines.push({ line: input.line, text: input.text, problem: input.problem })
          options.onInvalid?.(input)
          return Option.none()
        }
        const request = CancelRequest.make(input.paymentIntentId, input.reason)
        // Duplicates collapse to one request (the same intent in any letter case).
        if (seen.has(request.requestId)) {
          report.duplicates++
          return Option.none()
        }
        seen.add(request.requestId)
        return Option.some(request)
      })
    )
    const pending = Stream.fromIterableEffect(store.pending).pipe(
      Stream.filter((request) => {
        if (seen.has(request.requestId)) return false
        seen.add(request.requestId)
        return true
      })
    )
    yield* Stream.concat(fresh, pending).pipe(
      Stream.mapEffect(settle, { concurrency: options.concurrency, unordered: true }),
      Stream.runDrain
    )
    return report
  })

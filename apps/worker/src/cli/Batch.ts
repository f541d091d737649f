/**
 * A batch of cancellations, in two phases.
 *
 * Intake stores every input before any work starts (in chunks, one transaction each): bad lines are
 * reported, duplicates within the batch collapse to one request, and a request that already has an
 * outcome keeps it without another API call. Then every request without an outcome (this batch's, and
 * any an earlier run left pending) runs through the workflow, oldest first, with bounded concurrency.
 * Both phases stream, so a file of any size needs no more memory than a chunk.
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as CancelRequest from "../core/CancelRequest.js"
import type * as Outcome from "../core/Outcome.js"
import * as Gate from "../flex/Gate.js"
import * as CancelWorkflow from "../flow/CancelWorkflow.js"
import { type PendingCursor, Store } from "../store/Store.js"
import * as Heap from "./Heap.js"
import type * as Input from "./Input.js"
import * as Report from "./Report.js"

export interface Options {
  readonly concurrency: number
  /** Run requests whose stored outcome is GaveUp again, as a new generation. */
  readonly retryGaveUp: boolean
  /** Called once intake is done, with the number of requests about to run. */
  readonly onPending?: (pending: number) => void
  /** Called after each request that ran reaches its outcome. */
  readonly onOutcome?: (done: number, outcome: Outcome.Outcome) => void
  /** The report to fill (so that a caller can print what is in it if the batch is interrupted). */
  readonly report?: Report.Report
  /** Called for each rejected input line. */
  readonly onInvalid?: (input: Extract<Input.Input, { _tag: "Invalid" }>) => void
}

const chunkSize = 500

/** How long a stop waits for the calls on the wire: with the engine's 2 s after it, the exit comes within the 10 s the README promises. */
export const drainDeadline = Duration.seconds(7)

export const run = <R>(
  inputs: Stream.Stream<Input.Input, Input.InputError, R>,
  options: Options
): Effect.Effect<
  Report.Report,
  Input.InputError | Gate.KeyRejected | SqlError,
  Store | WorkflowEngine | Gate.Gate | R
> =>
  Effect.gen(function* () {
    const store = yield* Store
    const report = options.report ?? Report.empty()
    const batch = crypto.randomUUID()
    let accepted = 0

    yield* inputs.pipe(
      Stream.filterMap((input) => {
        if (input._tag === "Intent") {
          return Option.some({ line: input.line, request: CancelRequest.make(input.paymentIntentId, input.reason) })
        }
        report.invalidLines.push({ line: input.line, text: input.text, problem: input.problem })
        options.onInvalid?.(input)
        return Option.none()
      }),
      Stream.grouped(chunkSize),
      Stream.mapEffect((chunk) => {
        const items = Chunk.toReadonlyArray(chunk)
        return Effect.map(
          store.intake(
            items.map((item) => item.request),
            batch,
            options.retryGaveUp
          ),
          (results) => {
            // One result per request, in order: the line each came from is the item at the same index.
            for (const [i, result] of results.entries()) {
              if (result._tag === "Accepted") accepted++
              else if (result._tag === "Duplicate") {
                report.duplicates++
                const item = items[i]
                if (item !== undefined && report.duplicateLines.length < Report.duplicateLinesKept) {
                  report.duplicateLines.push({ line: item.line, paymentIntentId: item.request.paymentIntentId })
                }
              } else {
                // Submitted before: its outcome stands, and no API call is made.
                report.resubmitted++
                Report.add(report, result.outcome, false)
              }
            }
          }
        )
      }),
      Stream.runDrain
    )

    const counts = yield* store.counts
    // Pending beyond what this batch accepted: requests an earlier run left (a crash, an interrupt).
    report.resumed = Math.max(0, counts.requests - counts.outcomes - accepted)
    report.pending = counts.requests - counts.outcomes
    options.onPending?.(counts.requests - counts.outcomes)
    let done = 0
    // The pending requests, a page at a time, oldest first: one fiber reads the next page while the others
    // wait for it, and each page is read once its predecessor has been handed out.
    let page: ReadonlyArray<CancelRequest.CancelRequest> = []
    let taken = 0
    let cursor: PendingCursor | undefined
    let exhausted = false
    const reading = yield* Effect.makeSemaphore(1)
    const readPage = Effect.suspend(() =>
      taken < page.length || exhausted
        ? Effect.void
        : Effect.map(store.pendingPage(cursor, chunkSize), (rows) => {
            const last = rows[rows.length - 1]
            if (rows.length < chunkSize || last === undefined) exhausted = true
            else cursor = last.cursor
            page = rows.map(({ cursor: _, ...request }) => request)
            taken = 0
          })
    )
    const next: Effect.Effect<CancelRequest.CancelRequest | undefined, SqlError> = Effect.suspend(() => {
      if (taken < page.length) return Effect.succeed(page[taken++])
      if (exhausted) return Effect.succeed(undefined)
      return Effect.zipRight(reading.withPermits(1)(readPage), next)
    })
    const gate = yield* Gate.Gate
    // A fixed pool of `concurrency` fibers, each taking the next pending request as it finishes one (a
    // stream with `mapEffect` forked a fiber, behind a semaphore, per request). One failing stops the others.
    const worker = Effect.gen(function* () {
      for (;;) {
        const request = yield* next
        if (request === undefined) return
        const outcome = yield* CancelWorkflow.execute(request)
        Report.add(report, outcome)
        done++
        options.onOutcome?.(done, outcome)
        if (done % 25 === 0) Heap.trim()
      }
    })
    const workers = Math.max(1, Math.min(options.concurrency, report.pending))
    const work = Effect.all(
      Array.from({ length: workers }, () => worker),
      { concurrency: "unbounded", discard: true }
    )
    // A refused key closes the gate: the batch stops, and what is left stays pending for the next run.
    const refused = Effect.flatMap(gate.rejected, (reason) =>
      Effect.flatMap(store.counts, (counts) =>
        Effect.fail(new Gate.KeyRejected({ reason, pending: counts.requests - counts.outcomes }))
      )
    )
    // Stopped (SIGINT/SIGTERM): nothing new goes out, and the calls on the wire get until the deadline
    // before the interruption reaches the workflows (it would cut them).
    yield* gate.shield(Effect.raceFirst(work, refused), drainDeadline)
    return report
  })

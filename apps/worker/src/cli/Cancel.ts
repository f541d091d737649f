/**
 * `flex-worker cancel` and `flex-worker sweep`: batches on the embedded engine. Loaded only when one of
 * them runs (the engine, the cluster and the HTTP client are what makes a start slow).
 *
 * A sweep lists every candidate before it cancels any: so a failed listing has canceled nothing, a dry
 * run and a real one show the same intents, and the confirmation names how many and how much.
 */
import * as Readline from "node:readline"
import * as Money from "@flex/domain/Money"
import * as PaymentIntentStatus from "@flex/domain/PaymentIntentStatus"
import * as FlexClient from "@flex/http/FlexClient"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Durations from "../core/Durations.js"
import * as Client from "../flex/Client.js"
import * as Location from "../store/Location.js"
import * as Worker from "../Worker.js"
import * as Batch from "./Batch.js"
import * as Input from "./Input.js"
import * as Progress from "./Progress.js"
import * as Report from "./Report.js"

export interface BatchOptions {
  readonly store: string
  readonly rate: number
  readonly concurrency: number
  readonly json: boolean
  readonly retryGaveUp: boolean
  readonly okIfAttention: boolean
}

const checkAtLeast = (name: string, n: number, min: number) =>
  n >= min ? Effect.void : Effect.fail(new Input.InputError({ message: `--${name} must be at least ${min}, got ${n}` }))

const print = (report: Report.Report, asJson: boolean, store: string) =>
  Console.log(asJson ? JSON.stringify(Report.toJson(report, store)) : Report.toText(report, store))

const progressMode = (asJson: boolean): "bar" | "lines" | "off" =>
  asJson ? "off" : process.stderr.isTTY ? "bar" : "lines"

const runBatch = <R>(inputs: Stream.Stream<Input.Input, Input.InputError, R>, options: BatchOptions) =>
  Effect.gen(function* () {
    yield* checkAtLeast("rate", options.rate, 0)
    yield* checkAtLeast("concurrency", options.concurrency, 1)
    if (Location.location(options.store)._tag === "Postgres") {
      return yield* Effect.fail(
        new Input.InputError({
          message:
            "batches run on the embedded SQLite store; in cluster mode submit them to a runner's HTTP API (POST /cancellations)"
        })
      )
    }
    let progress = Progress.make(0, "off")
    const partial = Report.empty()
    const report = yield* Batch.run(inputs, {
      report: partial,
      concurrency: options.concurrency,
      retryGaveUp: options.retryGaveUp,
      onPending: (pending) => {
        progress = Progress.make(pending, progressMode(options.json))
      },
      onOutcome: (done) => progress.tick(done),
      onInvalid: (input) => {
        if (!options.json) process.stderr.write(`skipped ${input.problem}\n`)
      }
    }).pipe(
      Effect.provide(Worker.layer({ store: options.store, rate: options.rate })),
      // Stopped by a signal: what reached an outcome so far, once the engine has stopped (the exit code
      // and the stderr line say it was interrupted). Nothing is printed before the work began.
      Effect.onInterrupt(() =>
        partial.pending === 0 && partial.total === 0
          ? Effect.void
          : Effect.suspend(() => {
              progress.finish()
              return Console.log(
                options.json
                  ? JSON.stringify({ ...Report.toJson(partial, options.store), interrupted: true })
                  : `Interrupted: the counts so far (the requests without an outcome resume on the next start)\n${Report.toText(partial, options.store)}`
              )
            })
      )
    )
    progress.finish()
    yield* print(report, options.json, options.store)
    // Done, but not clean: exit 3, so a cron job or a script can tell it from a run nobody has to read.
    const attention = Report.attention(report)
    if (attention !== undefined && !options.okIfAttention) return yield* attention
  })

export const cancel = (
  options: BatchOptions & { readonly ids: ReadonlyArray<string>; readonly file: Option.Option<string> }
) =>
  Effect.gen(function* () {
    // @effect/cli takes an unknown flag for an argument; an ID never starts with a dash.
    const flag = options.ids.find((id) => id.startsWith("-"))
    if (flag !== undefined) {
      return yield* Effect.fail(
        new Input.InputError({ message: `unknown option ${flag} (see flex-worker cancel --help)` })
      )
    }
    // Input that cannot be what was meant fails here, before the store is opened (or created).
    yield* Input.checkArgs(options.ids)
    if (Option.isSome(options.file)) yield* Input.check(options.file.value)
    const fileInputs = Option.match(options.file, { onNone: () => Stream.empty, onSome: Input.fromFile })
    yield* runBatch(Stream.concat(Input.fromArgs(options.ids), fileInputs), options)
  })

/** Listing the intents failed: the sweep stops before its first cancel (exit 1). */
export class ListingFailed extends Data.TaggedError("ListingFailed")<{ readonly reason: string }> {
  override get message(): string {
    return `listing payment intents failed, so nothing was canceled yet: ${this.reason}`
  }
}

/** A sweep over more intents than this asks before it cancels (on a terminal; elsewhere it needs --yes). */
export const confirmAbove = 5

/** The default statuses a sweep cancels. */
export const defaultStatuses = ["requires_capture", "requires_payment_method"] as const

export interface SweepOptions extends Omit<BatchOptions, "retryGaveUp"> {
  readonly olderThan: string
  readonly status: ReadonlyArray<string>
  readonly dryRun: boolean
  readonly yes: boolean
}

/** Asks on the terminal (stderr, then a line of stdin); only "y" or "yes" is a yes. */
const ask = (question: string) =>
  Effect.async<boolean>((resume) => {
    const rl = Readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    let answered = false
    rl.question(question, (answer) => {
      answered = true
      rl.close()
      resume(Effect.succeed(/^y(es)?$/i.test(answer.trim())))
    })
    rl.on("close", () => {
      if (!answered) resume(Effect.succeed(false))
    })
    return Effect.sync(() => rl.close())
  })

export const sweep = (options: SweepOptions) =>
  Effect.gen(function* () {
    const age = Durations.parse(options.olderThan)
    if (Option.isNone(age)) {
      return yield* Effect.fail(
        new Input.InputError({ message: `${Durations.message("--older-than")}; got ${options.olderThan}` })
      )
    }
    const unknown = options.status.find((s) => !PaymentIntentStatus.statuses.some((known) => known === s))
    if (unknown !== undefined) {
      return yield* Effect.fail(
        new Input.InputError({
          message: `--status takes one of ${PaymentIntentStatus.statuses.join(", ")}, got '${unknown}'`
        })
      )
    }
    const statuses = new Set<string>(options.status.length > 0 ? options.status : defaultStatuses)
    const cutoff = DateTime.subtractDuration(yield* DateTime.now, age.value)
    // Page through every intent ourselves; each page request takes a slot of the rate limit, as cancels do.
    const candidates = Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
      Effect.gen(function* () {
        const client = yield* FlexClient.FlexClient
        const page = yield* client.paymentIntents.list({ limit: 100, starting_after: cursor })
        const last = page[page.length - 1]
        return [
          Chunk.unsafeFromArray([...page]),
          page.length < 100 || last === undefined ? Option.none() : Option.some(last.payment_intent_id)
        ] as const
      })
    ).pipe(
      Stream.filter(
        (intent) =>
          statuses.has(intent.status) &&
          DateTime.lessThan(intent.created_at, cutoff) &&
          PaymentIntentStatus.cancelability(intent.status)._tag === "Cancelable"
      )
    )
    const found = yield* Stream.runCollect(candidates).pipe(
      Effect.mapError((error) => new ListingFailed({ reason: error.message })),
      Effect.provide(Client.flexLayer({ rate: options.rate }))
    )
    const list = Chunk.toReadonlyArray(found).map((intent) => ({
      payment_intent_id: intent.payment_intent_id,
      status: intent.status,
      amount: intent.amount,
      created_at: DateTime.formatIso(intent.created_at)
    }))
    const total = list.reduce((sum, i) => sum + i.amount, 0)
    const money = (cents: number) => Money.format(Money.cents(cents))
    const intents = (n: number) => `${n} ${n === 1 ? "intent" : "intents"}`
    if (options.dryRun) {
      const idWidth = Math.max(0, ...list.map((i) => i.payment_intent_id.length))
      const statusWidth = Math.max(0, ...list.map((i) => i.status.length))
      const amountWidth = Math.max(0, ...list.map((i) => money(i.amount).length))
      yield* Console.log(
        options.json
          ? JSON.stringify({ would_cancel: list, total_amount: total })
          : [
              `Would cancel ${intents(list.length)}:`,
              ...list.map(
                (i) =>
                  `  ${i.payment_intent_id.padEnd(idWidth)}  ${i.status.padEnd(statusWidth)}  ${money(i.amount).padStart(amountWidth)}  ${i.created_at}`
              ),
              `Total: ${money(total)} in ${intents(list.length)}`
            ].join("\n")
      )
      return
    }
    if (list.length > confirmAbove && !options.yes) {
      const what = `${intents(list.length)} (${money(total)} in all)`
      if (!process.stdin.isTTY) {
        return yield* Effect.fail(
          new Input.InputError({
            message: `sweep would cancel ${what}; pass --yes to cancel them without a terminal to confirm on (--dry-run lists them)`
          })
        )
      }
      const yes = yield* ask(`Cancel ${what}? [y/N] `)
      if (!yes) return yield* Effect.fail(new Input.InputError({ message: "nothing was canceled (not confirmed)" }))
    }
    const inputs = Stream.fromIterable(list).pipe(
      Stream.zipWithIndex,
      Stream.map(
        ([intent, i]): Input.Input => ({ _tag: "Intent", line: i + 1, paymentIntentId: intent.payment_intent_id })
      )
    )
    yield* runBatch(inputs, { ...options, retryGaveUp: false })
  })

/**
 * The `flex-worker` command line: `cancel`, `report` and `sweep`.
 */

import { existsSync } from "node:fs"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { PaymentIntentStatus } from "@flex/domain"
import { FlexClient } from "@flex/http"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Durations from "../core/Durations.js"
import * as Postgres from "../engine/Postgres.js"
import * as Sqlite from "../engine/Sqlite.js"
import * as Client from "../flex/Client.js"
import * as Serve from "../serve/Serve.js"
import * as Location from "../store/Location.js"
import * as Store from "../store/Store.js"
import * as StoreLock from "../store/StoreLock.js"
import * as Worker from "../Worker.js"
import * as Batch from "./Batch.js"
import * as Input from "./Input.js"
import * as Progress from "./Progress.js"
import * as Report from "./Report.js"
import * as Show from "./Show.js"

const store = Options.text("store").pipe(
  Options.withDefault(Sqlite.defaultStore),
  Options.withDescription("The SQLite store (created if missing). One worker process per store.")
)
const rate = Options.integer("rate").pipe(
  Options.withDefault(25),
  Options.withDescription("Flex API calls per second, counting every call of every in-flight request (0: no limit).")
)
const concurrency = Options.integer("concurrency").pipe(
  Options.withDefault(16),
  Options.withDescription("Requests in flight at once.")
)
const json = Options.boolean("json").pipe(
  Options.withDescription("Print exactly one JSON object on stdout instead of the text report.")
)
const retryGaveUp = Options.boolean("retry-gave-up").pipe(
  Options.withDescription("Run again the requests whose stored outcome is GaveUp (others keep their outcome).")
)

const okIfAttention = Options.boolean("ok-if-attention").pipe(
  Options.withDescription(
    "Exit 0 once every request reached an outcome, even if some need attention or input lines were rejected (default: exit 3)."
  )
)

const checkAtLeast = (name: string, n: number, min: number) =>
  n >= min ? Effect.void : Effect.fail(new Input.InputError({ message: `--${name} must be at least ${min}, got ${n}` }))

const print = (report: Report.Report, asJson: boolean, store: string) =>
  Console.log(asJson ? JSON.stringify(Report.toJson(report, store)) : Report.toText(report, store))

const progressMode = (asJson: boolean): "bar" | "lines" | "off" =>
  asJson ? "off" : process.stderr.isTTY ? "bar" : "lines"

const runBatch = <R>(
  inputs: Stream.Stream<Input.Input, Input.InputError, R>,
  options: {
    store: string
    rate: number
    concurrency: number
    json: boolean
    retryGaveUp: boolean
    okIfAttention: boolean
  }
) =>
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
    const report = yield* Batch.run(inputs, {
      concurrency: options.concurrency,
      retryGaveUp: options.retryGaveUp,
      onPending: (pending) => {
        progress = Progress.make(pending, progressMode(options.json))
      },
      onOutcome: (done) => progress.tick(done),
      onInvalid: (input) => {
        if (!options.json) process.stderr.write(`skipped ${input.problem}\n`)
      }
    }).pipe(Effect.provide(Worker.layer({ store: options.store, rate: options.rate })))
    progress.finish()
    yield* print(report, options.json, options.store)
    // Done, but not clean: exit 3, so a cron job or a script can tell it from a run nobody has to read.
    const attention = Report.attention(report)
    if (attention !== undefined && !options.okIfAttention) return yield* attention
  })

const cancel = Command.make(
  "cancel",
  {
    ids: Args.text({ name: "ID" }).pipe(Args.repeated, Args.withDescription("Payment intent IDs (fpi_…).")),
    file: Options.text("file").pipe(
      Options.optional,
      Options.withDescription("A file of IDs, one per line, or a CSV with a payment_intent_id column (and reason).")
    ),
    store,
    rate,
    concurrency,
    json,
    retryGaveUp,
    okIfAttention
  },
  (options) =>
    Effect.gen(function* () {
      // @effect/cli takes an unknown flag for an argument; an ID never starts with a dash.
      const flag = options.ids.find((id) => id.startsWith("-"))
      if (flag !== undefined)
        return yield* Effect.fail(new Input.InputError({ message: `unknown option ${flag} (see --help)` }))
      // Input that cannot be what was meant fails here, before the store is opened (or created).
      yield* Input.checkArgs(options.ids)
      if (Option.isSome(options.file)) yield* Input.check(options.file.value)
      const fileInputs = Option.match(options.file, { onNone: () => Stream.empty, onSome: Input.fromFile })
      yield* runBatch(Stream.concat(Input.fromArgs(options.ids), fileInputs), options)
    })
).pipe(Command.withDescription("Cancel payment intents: each ends in exactly one recorded outcome."))

/** The store `report` and `show` read: `--store`, else FLEX_WORKER_DATABASE_URL (as `serve`), else the default file. */
const readStore = Options.text("store").pipe(
  Options.withFallbackConfig(Config.string("FLEX_WORKER_DATABASE_URL")),
  Options.withDefault(Sqlite.defaultStore),
  Options.withDescription("The store to read: a SQLite file, or a postgres:// URL. Also FLEX_WORKER_DATABASE_URL.")
)

/** Runs `f` on the store at `store`, which must exist if it is a file (reading never creates one). */
const reading = <A, E>(store: string, f: (store: Store.Service) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const where = Location.location(store)
    if (where._tag === "Sqlite" && !existsSync(where.path)) {
      return yield* Effect.fail(
        new Input.InputError({ message: `No store at ${store} (pass --store, or set FLEX_WORKER_DATABASE_URL)` })
      )
    }
    const client: Layer.Layer<SqlClient.SqlClient, ConfigError.ConfigError | SqlError> =
      where._tag === "Sqlite" ? StoreLock.client(where.path) : PgClient.layer({ url: where.url })
    return yield* Effect.flatMap(Store.Store, f).pipe(Effect.provide(Store.layer.pipe(Layer.provide(client))))
  })

const report = Command.make("report", { store: readStore, json }, (options) =>
  Effect.gen(function* () {
    const rows = yield* reading(options.store, (s) => s.all)
    const result = Report.empty()
    for (const row of rows) Report.add(result, row.outcome)
    yield* print(result, options.json, options.store)
  })
).pipe(Command.withDescription("Report every outcome in the store."))

const show = Command.make(
  "show",
  {
    id: Args.text({ name: "ID" }).pipe(Args.withDescription("A payment intent ID (fpi_…) or a request id.")),
    store: readStore,
    json
  },
  (options) =>
    Effect.gen(function* () {
      const found = yield* reading(options.store, (s) => s.history(options.id.trim()))
      if (found.length === 0) {
        return yield* Effect.fail(
          new Input.InputError({
            message: `no request for ${options.id.trim()} in ${Location.describe(Location.location(options.store))}`
          })
        )
      }
      yield* Console.log(
        options.json ? JSON.stringify({ requests: found.map(Show.toJson) }) : found.map(Show.toText).join("\n\n")
      )
    })
).pipe(
  Command.withDescription("Show one request: what was asked, each cancel attempt, and the outcome with its reason.")
)

const sweep = Command.make(
  "sweep",
  {
    olderThan: Options.text("older-than").pipe(
      Options.withDescription(`Only intents created longer ago than this: ${Durations.forms}.`)
    ),
    status: Options.choice("status", PaymentIntentStatus.statuses).pipe(
      Options.repeated,
      Options.withDescription("Statuses to cancel (repeatable). Default: requires_capture, requires_payment_method.")
    ),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("List what would be canceled; cancel nothing.")),
    store,
    rate,
    concurrency,
    json,
    okIfAttention
  },
  (options) =>
    Effect.gen(function* () {
      const age = Durations.parse(options.olderThan)
      if (Option.isNone(age)) {
        return yield* Effect.fail(
          new Input.InputError({ message: `${Durations.message("--older-than")}; got ${options.olderThan}` })
        )
      }
      const statuses = new Set<string>(
        options.status.length > 0 ? options.status : ["requires_capture", "requires_payment_method"]
      )
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
      if (options.dryRun) {
        const found = yield* Stream.runCollect(candidates).pipe(
          Effect.provide(Client.flexLayer({ rate: options.rate }))
        )
        const list = Chunk.toReadonlyArray(found).map((intent) => ({
          payment_intent_id: intent.payment_intent_id,
          status: intent.status,
          amount: intent.amount,
          created_at: DateTime.formatIso(intent.created_at)
        }))
        yield* Console.log(
          options.json
            ? JSON.stringify({ would_cancel: list })
            : [
                `Would cancel ${list.length} intents:`,
                ...list.map((i) => `  ${i.payment_intent_id}  ${i.status}  ${i.created_at}`)
              ].join("\n")
        )
        return
      }
      const inputs = candidates.pipe(
        Stream.zipWithIndex,
        Stream.map(
          ([intent, i]): Input.Input => ({ _tag: "Intent", line: i + 1, paymentIntentId: intent.payment_intent_id })
        ),
        Stream.mapError((error) => new Input.InputError({ message: `Listing intents failed: ${error.message}` }))
      )
      yield* runBatch(inputs, { ...options, retryGaveUp: false })
    })
).pipe(Command.withDescription("Cancel every cancelable intent older than a duration (lists them with --dry-run)."))

const parseListen = (text: string) => {
  const match = /^([^\s:]+|\[[^\]]+\]):(\d{1,5})$/.exec(text.trim())
  const port = match === null ? Number.NaN : Number(match[2])
  return match !== null && port >= 0 && port < 65536
    ? Effect.succeed({ host: match[1]!.replace(/^\[|\]$/g, ""), port })
    : Effect.fail(new Input.InputError({ message: `--listen must be host:port, got ${text}` }))
}

const serve = Command.make(
  "serve",
  {
    store: Options.text("store").pipe(
      Options.withFallbackConfig(Config.string("FLEX_WORKER_DATABASE_URL")),
      Options.withDefault(Sqlite.defaultStore),
      Options.withDescription(
        "A SQLite file (embedded, one process) or a postgres:// URL (cluster mode: any number of runners). Also FLEX_WORKER_DATABASE_URL."
      )
    ),
    listen: Options.text("listen").pipe(
      Options.withDefault("127.0.0.1:8080"),
      Options.withDescription("Where the HTTP API listens, host:port (port 0: any free port).")
    ),
    runnerAddress: Options.text("runner-address").pipe(
      Options.withDefault(Postgres.defaultRunnerAddress),
      Options.withDescription(
        "Cluster mode: this runner's address, host:port, reachable by the other runners (each runner its own)."
      )
    ),
    rate
  },
  (options) =>
    Effect.gen(function* () {
      yield* checkAtLeast("rate", options.rate, 0)
      const listen = yield* parseListen(options.listen)
      const runnerAddress = yield* Postgres.parseRunnerAddress(options.runnerAddress)
      const token = yield* Config.redacted("FLEX_WORKER_API_TOKEN").pipe(
        Config.validate({
          message: "FLEX_WORKER_API_TOKEN must be at least 16 characters",
          validation: (t) => Redacted.value(t).length >= 16
        })
      )
      yield* Layer.launch(
        Serve.layer({
          store: options.store,
          host: listen.host,
          port: listen.port,
          token,
          rate: options.rate,
          runnerAddress
        })
      )
    })
).pipe(
  Command.withDescription("Run a worker with the HTTP API (embedded on SQLite, or a cluster runner on PostgreSQL).")
)

export const command = Command.make("flex-worker").pipe(
  Command.withDescription("Cancel Flex payment intents durably."),
  Command.withSubcommands([cancel, report, show, sweep, serve])
)

export const run = Command.run(command, { name: "flex-worker", version: "0.1.0" })

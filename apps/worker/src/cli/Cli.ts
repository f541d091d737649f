/**
 * The `flex-worker` command line: `cancel`, `report`, `show`, `sweep` and `serve`, parsed by
 * `@effect/cli`. Each command's code is imported when it runs, so a command loads only what it needs:
 * `report` and `show` no engine, cluster or HTTP client; `cancel` and `sweep` no PostgreSQL or HTTP
 * server. The help is cli/Help (bin.ts answers `--help` before this module is loaded).
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Help from "./Help.js"

/** The module `load` imports, once the command it belongs to runs. */
const load = <M>(f: () => Promise<M>) => Effect.promise(f)

const store = Options.text("store").pipe(Options.withDefault(Help.defaultStore))
const rate = Options.integer("rate").pipe(Options.withDefault(25))
const concurrency = Options.integer("concurrency").pipe(Options.withDefault(16))
const json = Options.boolean("json")
const retryGaveUp = Options.boolean("retry-gave-up")
const okIfAttention = Options.boolean("ok-if-attention")
/** The store `report`, `show` and `serve` use: `--store`, else FLEX_WORKER_DATABASE_URL, else the default file. */
const storeOrDatabase = Options.text("store").pipe(
  Options.withFallbackConfig(Config.string("FLEX_WORKER_DATABASE_URL")),
  Options.withDefault(Help.defaultStore)
)

const cancel = Command.make(
  "cancel",
  {
    ids: Args.text({ name: "ID" }).pipe(Args.repeated),
    file: Options.text("file").pipe(Options.optional),
    store,
    rate,
    concurrency,
    json,
    retryGaveUp,
    okIfAttention
  },
  (options) =>
    Effect.flatMap(
      load(() => import("./Cancel.js")),
      (m) => m.cancel(options)
    )
)

const report = Command.make("report", { store: storeOrDatabase, json }, (options) =>
  Effect.flatMap(
    load(() => import("./Read.js")),
    (m) => m.report(options)
  )
)

const show = Command.make("show", { id: Args.text({ name: "ID" }), store: storeOrDatabase, json }, (options) =>
  Effect.flatMap(
    load(() => import("./Read.js")),
    (m) => m.show(options)
  )
)

const sweep = Command.make(
  "sweep",
  {
    olderThan: Options.text("older-than"),
    // Checked by the command (it says which statuses there are); optional: the default is two of them.
    status: Options.text("status").pipe(Options.repeated),
    dryRun: Options.boolean("dry-run"),
    yes: Options.boolean("yes"),
    store,
    rate,
    concurrency,
    json,
    okIfAttention
  },
  (options) =>
    Effect.flatMap(
      load(() => import("./Cancel.js")),
      (m) => m.sweep(options)
    )
)

const serve = Command.make(
  "serve",
  {
    store: storeOrDatabase,
    listen: Options.text("listen").pipe(Options.withDefault("127.0.0.1:8080")),
    runnerAddress: Options.text("runner-address").pipe(Options.withDefault("localhost:34431")),
    rate
  },
  (options) =>
    Effect.flatMap(
      load(() => import("../serve/Command.js")),
      (m) => m.serve(options)
    )
)

export const command = Command.make("flex-worker").pipe(Command.withSubcommands([cancel, report, show, sweep, serve]))

export const run = Command.run(command, { name: "flex-worker", version: Help.version })

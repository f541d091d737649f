/**
 * `flex-worker --help` and `flex-worker COMMAND --help`, as a table: each command's usage, one line per
 * flag with its default, the environment it reads, the exit codes and two examples. Plain text, never
 * ANSI (it is read in pagers, logs and runbooks as often as on a terminal), at most 100 columns.
 *
 * It is written here rather than rendered by `@effect/cli`, whose help pads every line to the terminal's
 * width, colours it when piped, and lists its own `--wizard` and `--completions`. It imports nothing, so
 * `--help` starts as fast as Node itself: `bin.ts` answers it before loading the commands.
 */

/** The embedded store when none is given (the same as `engine/Sqlite.defaultStore`; a test pins it). */
export const defaultStore = "./.flex-worker/worker.sqlite"

export const commands = ["cancel", "report", "show", "sweep", "serve"] as const
export type Command = (typeof commands)[number]

interface Flag {
  readonly flag: string
  readonly text: string
  /** The flag takes one of a list of values (for the message when it is given another). */
  readonly choice?: boolean
}

interface Entry {
  readonly usage: string
  readonly summary: string
  readonly about: ReadonlyArray<string>
  readonly flags: ReadonlyArray<Flag>
  readonly env: ReadonlyArray<Flag>
  readonly examples: readonly [string, string]
}

const storeFlag: Flag = { flag: "--store FILE", text: `the SQLite store, created if missing (default ${defaultStore})` }
const readStoreFlag: Flag = {
  flag: "--store FILE|URL",
  text: `a SQLite file or a postgres:// URL (default $FLEX_WORKER_DATABASE_URL, else ${defaultStore})`
}
const rateFlag: Flag = {
  flag: "--rate N",
  text: "Flex API calls per second, all requests together; 0: no limit (default 25)"
}
const concurrencyFlag: Flag = { flag: "--concurrency N", text: "requests in flight at once (default 16)" }
const jsonFlag: Flag = { flag: "--json", text: "print exactly one JSON object on stdout instead of the text report" }
const okFlag: Flag = { flag: "--ok-if-attention", text: "exit 0, not 3, when some request needs a person" }
const helpFlag: Flag = { flag: "-h, --help", text: "print this help and exit" }

const flexEnv: ReadonlyArray<Flag> = [
  { flag: "FLEX_API_KEY", text: "the Flex secret key, fsk_test_… or fsk_… (required)" },
  { flag: "FLEX_BASE_URL", text: "the API (default https://api.withflex.com; a sandbox for tests)" },
  { flag: "FLEX_TIMEOUT", text: "per API call: a duration or seconds (default 30s)" },
  { flag: "FLEX_WORKER_MAX_ATTEMPTS", text: "cancel attempts per request before gave_up (default 6)" },
  { flag: "FLEX_WORKER_LOG_LEVEL", text: "logs on stderr: error, warning, info, debug (default warning)" }
]
const databaseEnv: Flag = {
  flag: "FLEX_WORKER_DATABASE_URL",
  text: "the store when --store is not given (postgres:// for a cluster)"
}

const table: Record<Command, Entry> = {
  cancel: {
    usage: "flex-worker cancel [ID…] [--file FILE] [options]",
    summary: "cancel payment intents; each ends in exactly one recorded outcome",
    about: [
      "Stores every request, then runs every request without an outcome (this run's and any an",
      "earlier run left pending). With neither IDs nor --file it finishes what was pending."
    ],
    flags: [
      { flag: "--file FILE", text: "one ID per line, or a CSV with a payment_intent_id column (and reason)" },
      storeFlag,
      rateFlag,
      concurrencyFlag,
      jsonFlag,
      { flag: "--retry-gave-up", text: "run the given requests whose outcome is gave_up again" },
      okFlag,
      helpFlag
    ],
    env: flexEnv,
    examples: [
      "flex-worker cancel fpi_01J9M9S346Q3D25VT4F5V37E3S fpi_01J9QKFBF5KZNWJ47TAN9ZT24M",
      "flex-worker cancel --file stale-holds.csv --rate 20 --json > result.json"
    ]
  },
  report: {
    usage: "flex-worker report [--store FILE|URL] [--json]",
    summary: "report every outcome in the store",
    about: ["Counts per outcome, the amount released, and the requests that need a person."],
    flags: [readStoreFlag, jsonFlag, helpFlag],
    env: [databaseEnv],
    examples: ["flex-worker report", "flex-worker report --store postgres://flex@db:5432/flex_worker --json"]
  },
  show: {
    usage: "flex-worker show ID [--store FILE|URL] [--json]",
    summary: "show one request: what was asked, each attempt, the outcome and its reason",
    about: ["ID is a payment intent ID (fpi_…, any letter case) or a request id."],
    flags: [readStoreFlag, jsonFlag, helpFlag],
    env: [databaseEnv],
    examples: ["flex-worker show fpi_01J9M9S346Q3D25VT4F5V37E3S", "flex-worker show order-88231 --json"]
  },
  sweep: {
    usage: "flex-worker sweep --older-than DURATION [--status S]… [--dry-run] [--yes] [options]",
    summary: "cancel every cancelable intent older than a duration",
    about: [
      "Pages through every payment intent and cancels the cancelable ones created before the",
      "duration ago. Over 5 intents it asks first on a terminal; elsewhere it needs --yes."
    ],
    flags: [
      { flag: "--older-than DURATION", text: "required: 500ms, 2s, 5m, 6h, 6d, or 2 seconds" },
      {
        flag: "--status S",
        text: "a status to cancel, repeatable (default requires_capture, requires_payment_method)",
        choice: true
      },
      { flag: "--dry-run", text: "list what would be canceled, with amounts and a total; cancel nothing" },
      { flag: "--yes", text: "cancel without asking, however many intents match" },
      storeFlag,
      rateFlag,
      concurrencyFlag,
      jsonFlag,
      okFlag,
      helpFlag
    ],
    env: flexEnv,
    examples: ["flex-worker sweep --older-than 6d --dry-run", "flex-worker sweep --older-than 6d --yes --json"]
  },
  serve: {
    usage: "flex-worker serve [--store FILE|URL] [--listen HOST:PORT] [options]",
    summary: "run a worker with the HTTP API (embedded on SQLite, a cluster runner on PostgreSQL)",
    about: [
      "POST /cancellations, GET /cancellations/ID (bearer token), GET /healthz, GET /metrics.",
      "The first line on stdout is `listening on http://HOST:PORT`."
    ],
    flags: [
      {
        flag: "--store FILE|URL",
        text: `a SQLite file (one process) or a postgres:// URL (a cluster runner) (default $FLEX_WORKER_DATABASE_URL, else ${defaultStore})`
      },
      { flag: "--listen HOST:PORT", text: "the HTTP API's address; port 0: any free port (default 127.0.0.1:8080)" },
      {
        flag: "--runner-address HOST:PORT",
        text: "cluster mode: where the other runners reach this one (default localhost:34431)"
      },
      { flag: "--rate N", text: "Flex API calls per second, whole cluster; 0: no limit (default 25)" },
      helpFlag
    ],
    env: [
      ...flexEnv,
      databaseEnv,
      { flag: "FLEX_WORKER_API_TOKEN", text: "the bearer token of the cancellation routes, 16+ characters (required)" },
      {
        flag: "FLEX_WORKER_STALL_THRESHOLD",
        text: "cluster mode: exit 1 on a stalled shard after this (default 60s; 0s: off)"
      }
    ],
    examples: [
      "FLEX_WORKER_API_TOKEN=$(openssl rand -hex 24) flex-worker serve --listen 127.0.0.1:8080",
      "flex-worker serve --store postgres://flex@db:5432/flex_worker --runner-address 10.0.1.17:34431"
    ]
  }
}

const exitCodes = [
  "0    every request reached an outcome and none needs a person",
  "3    every request reached an outcome, but some need a person or input lines were rejected",
  "2    usage, configuration or input error (one line on stderr says which)",
  "130  interrupted by SIGINT, 143 by SIGTERM: pending requests resume on the next start",
  "1    anything else"
]

/** Words filled into lines of at most `width` columns. */
const fill = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  return [...lines, line]
}

/** Two columns, the text filled so that no line passes 100 columns. */
const columns = (rows: ReadonlyArray<Flag>): Array<string> => {
  const width = Math.min(28, Math.max(...rows.map((r) => r.flag.length)))
  return rows.flatMap((r) => {
    const [first, ...rest] = fill(r.text, 100 - width - 4)
    const head =
      r.flag.length > width
        ? [`  ${r.flag}`, `  ${"".padEnd(width)}  ${first}`]
        : [`  ${r.flag.padEnd(width)}  ${first}`]
    return [...head, ...rest.map((line) => `  ${"".padEnd(width)}  ${line}`)]
  })
}

/** The help of one command, or of `flex-worker` itself. */
export const text = (command?: Command): string => {
  if (command === undefined) {
    return [
      "flex-worker: cancel Flex payment intents durably",
      "",
      "Usage: flex-worker COMMAND [options]",
      "",
      "Commands:",
      ...columns(commands.map((c) => ({ flag: c, text: table[c].summary }))),
      "",
      "Options:",
      ...columns([
        { flag: "-h, --help", text: "print help (flex-worker COMMAND --help: that command's flags)" },
        { flag: "--version", text: "print the version" }
      ]),
      "",
      "Environment:",
      ...columns([...flexEnv, databaseEnv]),
      "",
      "Exit codes:",
      ...exitCodes.map((line) => `  ${line}`),
      "",
      "Examples:",
      ...table.cancel.examples.slice(0, 1).map((e) => `  ${e}`),
      ...table.sweep.examples.slice(0, 1).map((e) => `  ${e}`),
      ""
    ].join("\n")
  }
  const entry = table[command]
  return [
    `Usage: ${entry.usage}`,
    "",
    `${entry.summary[0]!.toUpperCase()}${entry.summary.slice(1)}.`,
    ...entry.about,
    "",
    "Options:",
    ...columns(entry.flags),
    "",
    "Environment:",
    ...columns(entry.env),
    "",
    "Exit codes:",
    ...exitCodes.map((line) => `  ${line}`),
    "",
    "Examples:",
    ...entry.examples.map((e) => `  ${e}`),
    ""
  ].join("\n")
}

/** What the arguments ask of the help, if anything: `--help`/`-h` anywhere before `--`, or `help [COMMAND]`. */
export const requested = (args: ReadonlyArray<string>): { readonly command: Command | undefined } | undefined => {
  const end = args.indexOf("--")
  const before = end < 0 ? args : args.slice(0, end)
  const first = before[0]
  const command = commands.find((c) => c === first)
  if (first === "help") return { command: commands.find((c) => c === before[1]) }
  if (before.includes("--help") || before.includes("-h")) return { command }
  return undefined
}

export const version = "0.1.0"

/** The line for arguments that name no command. */
export const unknownCommand = (given: string | undefined): string =>
  given === undefined
    ? `no command given (one of ${commands.join(", ")}; see flex-worker --help)`
    : `unknown command '${given}' (one of ${commands.join(", ")}; see flex-worker --help)`

/** The flag `value` was given to in `args` (`--rate abc` or `--rate=abc`), if any. */
const flagOf = (args: ReadonlyArray<string>, value: (v: string) => boolean): string | undefined => {
  for (const [i, arg] of args.entries()) {
    const inline = /^(--[\w-]+)=(.*)$/.exec(arg)
    if (inline !== null && value(inline[2]!)) return inline[1]
    if (i > 0 && args[i - 1]!.startsWith("--") && value(arg)) return args[i - 1]
  }
  return undefined
}

/**
 * An argument error of the parser as one line that names the flag and what it takes, and points at the
 * command's help. The parser's own words (`'abc' is not a integer`, `Expected to find option:
 * '--older-than'`) do not say which flag; `args` (the command's arguments) do.
 */
export const argumentError = (said: string, command: Command | undefined, args: ReadonlyArray<string>): string => {
  const text = said.replace(/\s+/g, " ").trim()
  const see = `see flex-worker${command === undefined ? "" : ` ${command}`} --help`
  const missing = /Expected to find option: '(--[\w-]+)'/.exec(text)
  if (missing !== null) {
    const flag = (command === undefined ? [] : table[command].flags).find((f) => f.flag.startsWith(`${missing[1]} `))
    return `${command ?? "flex-worker"} needs ${flag?.flag ?? missing[1]} (${see})`
  }
  const notA = /'([^']*)' is not a (\w+)/.exec(text)
  if (notA !== null) {
    const kind = notA[2] === "integer" ? "a whole number" : `a ${notA[2]}`
    return `${flagOf(args, (v) => v === notA[1]) ?? "a flag"} takes ${kind}, got '${notA[1]}' (${see})`
  }
  const choice = /Expected one of the following cases: (.*)$/.exec(text)
  if (choice !== null) {
    const cases = choice[1]!.split(", ").map((c) => c.trim())
    const given = (v: string) => !v.startsWith("-") && !cases.includes(v)
    const choices = (command === undefined ? [] : table[command].flags).filter((f) => f.choice === true)
    const flag = choices.length === 1 ? choices[0]!.flag.split(" ")[0] : flagOf(args, given)
    const value = args.find((a, i) => (i > 0 && args[i - 1] === flag && given(a)) || a.startsWith(`${flag}=`))
    return `${flag ?? "a flag"} takes one of ${cases.join(", ")}${value === undefined ? "" : `, got '${value.replace(/^--[\w-]+=/, "")}'`} (${see})`
  }
  const unknown = /Received unknown argument: '([^']*)'/.exec(text)
  if (unknown !== null) {
    return `${unknown[1]!.startsWith("-") ? "unknown option" : "unexpected argument"} ${unknown[1]} (${see})`
  }
  const argument = /Missing argument <(\w+)>/.exec(text)
  if (argument !== null) return `${command ?? "flex-worker"} needs ${argument[1]} (${see})`
  return `${text.replace(/\.$/, "")} (${see})`
}

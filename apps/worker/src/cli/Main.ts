/**
 * `flex-worker`'s commands run (bin.ts loads this once it knows a command will run): exit codes are 0 when every request reached an outcome and none needs attention, 3 when
 * every request reached one but some need a person or input lines were rejected (0 with
 * `--ok-if-attention`), 2 for usage, configuration
 * and input errors (bad flags, missing FLEX_API_KEY, unreadable file, a PostgreSQL database, role or host
 * that does not exist, store in use or locked by another
 * process for longer than the worker waits), 130/143 when interrupted by SIGINT/SIGTERM (pending
 * requests resume on the next start), 1 for anything else.
 * Errors are one line on stderr, never a stack trace, never a secret. Logs, process warnings included,
 * go to stderr too: JSON lines, or pretty on a terminal.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Cli from "./Cli.js"
import * as EngineNoise from "./EngineNoise.js"
import * as Help from "./Help.js"

let signal: "SIGINT" | "SIGTERM" | undefined
process.once("SIGINT", () => {
  signal = "SIGINT"
})
process.once("SIGTERM", () => {
  signal = "SIGTERM"
})

/**
 * The StoreUnavailable an error carries, if any: a store operation fails with a SqlError caused by it,
 * and the engine wraps that in errors of its own (sometimes as a defect).
 */
const storeUnavailable = (error: unknown): { readonly message: string } | undefined => {
  let current = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    if ((current as { _tag?: unknown })._tag === "StoreUnavailable") return current as Error
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

const usage = (error: unknown): boolean =>
  ValidationError.isValidationError(error) ||
  ConfigError.isConfigError(error) ||
  (typeof error === "object" &&
    error !== null &&
    ["InputError", "KeyRejected", "StoreLocked", "StoreUnavailable"].includes(
      (error as { _tag?: string })._tag ?? ""
    )) ||
  databaseConfigProblem(error) !== undefined

/** Config errors as sentences: `FLEX_API_KEY is not set`, or the validation message (never the value). */
const configMessages = (error: ConfigError.ConfigError): Array<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configMessages(error.left), ...configMessages(error.right)]
    case "MissingData":
      return [`${error.path.join(".")} is not set`]
    case "InvalidData":
    case "SourceUnavailable":
    case "Unsupported":
      return [error.message]
  }
}

/**
 * A PostgreSQL store that cannot be what was meant, as one plain sentence: the database does not exist,
 * the role or password is refused, the host is unknown. These are configuration errors (exit 2):
 * running again changes nothing until the URL does. A refused or timed-out connection is not one of them
 * (the server may be down or restarting) and stays a database error (exit 1). The server's messages for
 * these codes name the database or the role, never a password; they go through `redact` all the same.
 */
const databaseConfigProblem = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null || (error as { _tag?: string })._tag !== "SqlError") return undefined
  const cause = (error as { cause?: { code?: unknown; message?: unknown; hostname?: unknown } }).cause
  const code = cause?.code
  const said = typeof cause?.message === "string" ? redact(cause.message) : ""
  switch (code) {
    case "3D000": {
      const name = /database "([^"]+)" does not exist/.exec(said)?.[1]
      return `the database ${name === undefined ? "" : `"${name}" `}does not exist (3D000)`
    }
    case "28P01":
    case "28000":
      return `the database refused the connection${said === "" ? "" : `: ${said}`} (${code})`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the database host ${typeof cause?.hostname === "string" ? `${cause.hostname} ` : ""}was not found (${code})`
    default:
      return undefined
  }
}

const describe = (error: unknown): string => {
  const config = databaseConfigProblem(error)
  if (config !== undefined) return config
  if (ConfigError.isConfigError(error)) return `configuration error: ${[...new Set(configMessages(error))].join("; ")}`
  if (typeof error === "object" && error !== null && (error as { _tag?: string })._tag === "SqlError") {
    // The driver's own message can carry a connection string; say only what failed and its code.
    const cause = (error as { cause?: { code?: unknown } }).cause
    const code = typeof cause?.code === "string" ? ` (${cause.code})` : ""
    return `database error: ${(error as Error).message}${code}`
  }
  if (error instanceof Error) return error.message
  return String(error)
}

const level = process.env.FLEX_WORKER_LOG_LEVEL
const logLevel =
  LogLevel.allLevels.find((l) => l.label.toLowerCase() === (level ?? "warning").toLowerCase()) ?? LogLevel.Warning
// Logs go to stderr, so stdout carries only the report (exactly one JSON object with --json).
const sink = Logger.withConsoleError(process.stderr.isTTY ? Logger.prettyLoggerDefault : Logger.jsonLogger)
const logger = Logger.replace(Logger.defaultLogger, EngineNoise.quiet(sink, logLevel))

/** The secrets this process was given: the API key and token, and the database password (env or --store). */
const secrets = (): Array<string> => {
  const given = [process.env.FLEX_API_KEY, process.env.FLEX_WORKER_API_TOKEN]
  for (const value of [process.env.FLEX_WORKER_DATABASE_URL, ...process.argv]) {
    if (value === undefined || !/^postgres(ql)?:\/\//.test(value)) continue
    try {
      given.push(decodeURIComponent(new URL(value).password))
    } catch {}
  }
  return given.filter((secret): secret is string => secret !== undefined && secret.length >= 4)
}

/** A process warning's text without credentials: a URL's password, and any secret of {@link secrets}. */
const redact = (text: string): string => {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s]*@/gi, "$1***@")
  for (const secret of secrets()) out = out.replaceAll(secret, "***")
  return out
}

// Node prints process warnings itself, as `(node:PID) DeprecationWarning: …` lines on stderr, which is
// not a JSON line for a log shipper (pg warns so while @effect/sql-pg reconnects after an outage). They
// go through the logger instead, at warning level, like every other log line; the stack is left out.
process.removeAllListeners("warning")
process.on("warning", (warning) => {
  const code = (warning as { code?: unknown }).code
  if (EngineNoise.expectedWarning(warning)) return
  Effect.runSync(
    Effect.logWarning(redact(warning.message)).pipe(
      Effect.annotateLogs({ warning: warning.name, ...(typeof code === "string" ? { code } : {}) }),
      Effect.provide(logger),
      Logger.withMinimumLogLevel(logLevel)
    )
  )
})

/**
 * @effect/cli prints a usage error itself, as a block of help (in colour), before failing with it; the
 * teardown prints it as one `flex-worker: …` line instead, so that printing is dropped.
 */
const withoutCliErrors = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) => Console.withConsole(effect, { ...console, error: () => Effect.void }))

const ansiEscape = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")

/** A usage error of @effect/cli as plain text (its help document without the ANSI escapes). */
const plainText = (error: ValidationError.ValidationError): string =>
  HelpDoc.toAnsiText(error.error).replace(ansiEscape, "")

/**
 * What `@effect/cli` needs from the platform, and nothing else: `NodeContext.layer` also brings the
 * command executor and the worker pool, whose modules cost a single `cancel` tens of milliseconds of
 * start-up (issue 13) and which no command uses.
 */
const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

/** Runs `flex-worker` with these arguments (`process.argv`) and exits with its code. */
export const main = (argv: ReadonlyArray<string>) => {
  const command = Help.commands.find((c) => c === argv[2])
  const program = Cli.run(argv).pipe(
    withoutCliErrors,
    Effect.provide(Layer.merge(platform, logger)),
    Logger.withMinimumLogLevel(logLevel)
  )
  runMain(program, command, argv)
}

const runMain = <E>(program: Effect.Effect<void, E>, command: Help.Command | undefined, argv: ReadonlyArray<string>) =>
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    // Without this, runMain swaps the default logger for the pretty one (on stdout) before `logger` above
    // can replace it, so every log line would also land on stdout, beside the report.
    disablePrettyLogger: true,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit)) return onExit(0)
      if (Cause.isInterruptedOnly(exit.cause) || signal !== undefined) {
        process.stderr.write(
          `flex-worker: interrupted (${signal ?? "interrupt"}); pending requests resume on the next start\n`
        )
        return onExit(signal === "SIGTERM" ? 143 : 130)
      }
      const failure = Cause.failureOption(exit.cause)
      // Another process held the store's lock for longer than the worker waits: one line, like "store in use".
      const unavailable = storeUnavailable(failure._tag === "Some" ? failure.value : Cause.squash(exit.cause))
      if (unavailable !== undefined) {
        process.stderr.write(`flex-worker: ${unavailable.message}\n`)
        return onExit(2)
      }
      if (failure._tag === "Some") {
        const error = failure.value
        if ((error as { _tag?: unknown })._tag === "NeedsAttention") {
          process.stderr.write(`flex-worker: ${(error as Error).message}\n`)
          return onExit(3)
        }
        process.stderr.write(
          `flex-worker: ${ValidationError.isValidationError(error) ? Help.argumentError(plainText(error), command, argv.slice(3)) : describe(error)}\n`
        )
        return onExit(usage(error) ? 2 : 1)
      }
      const defect = Cause.squash(exit.cause)
      process.stderr.write(`flex-worker: unexpected error: ${describe(defect)}\n`)
      return onExit(1)
    }
  })

/**
 * Messages the engine's libraries print on every normal run that ask nothing of the operator: dropped
 * from the logs (kept at FLEX_WORKER_LOG_LEVEL=debug) and from the process warnings, each by its exact
 * words, so that anything else they say still shows.
 */
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"

/**
 * `@effect/cluster`'s Sharding warns "No healthy runners available" (with its runner as an Option)
 * whenever no runner is marked healthy: every runner marks itself unhealthy as it stops, so a
 * one-runner engine (the embedded one) and the last runner of a cluster say it at each stop, and the
 * engine marks itself healthy again on its own. A real loss of runners shows in `/healthz` and the metrics.
 */
export const expectedLog = (message: unknown, annotations: HashMap.HashMap<string, unknown>): boolean => {
  const text = Array.isArray(message) ? message[0] : message
  return (
    Option.getOrUndefined(HashMap.get(annotations, "package")) === "@effect/cluster" &&
    Option.getOrUndefined(HashMap.get(annotations, "module")) === "Sharding" &&
    text === "No healthy runners available"
  )
}

/** `logger` without the {@link expectedLog} messages, unless the log level shows debug lines. */
export const quiet = <O>(logger: Logger.Logger<unknown, O>, level: LogLevel.LogLevel): Logger.Logger<unknown, void> =>
  Logger.make((options) => {
    if (LogLevel.greaterThan(level, LogLevel.Debug) && expectedLog(options.message, options.annotations)) return
    logger.log(options)
  })

const pgQueuedQuery = "Calling client.query() when the client is already executing a query is deprecated"

/**
 * pg's deprecation of a query issued on a client still running one (printed once per process). The
 * call path is `@effect/cluster`'s SqlRunnerStorage: it keeps every shard-lock statement (acquire,
 * refresh, release, `pg_advisory_unlock`) on one reserved connection of `@effect/sql-pg`, and its
 * fibers share it, so a refresh can be sent while a release runs; pg queues it, which the engine relies
 * on. Nothing the operator can change; any other warning still shows.
 */
export const expectedWarning = (warning: Error): boolean =>
  warning.name === "DeprecationWarning" && warning.message.startsWith(pgQueuedQuery)

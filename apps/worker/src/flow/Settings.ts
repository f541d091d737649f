/**
 * The flow's tunables, from the environment (FLEX_WORKER_MAX_ATTEMPTS, FLEX_WORKER_MAX_READS,
 * FLEX_WORKER_BACKOFF_BASE, FLEX_WORKER_BACKOFF_MAX), and the machine's budgets derived from them.
 */
import * as RetryPolicy from "@flex/http/RetryPolicy"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Durations from "../core/Durations.js"
import type * as Machine from "./Machine.js"

export interface Settings {
  /** Cancel attempts before giving up. */
  readonly maxAttempts: number
  /** Failed reads in a row before the intent's state counts as unknowable (twice that after an ambiguous cancel). */
  readonly maxReads: number
  /** The first backoff; it doubles per wait (with jitter), up to `maxDelay`. */
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
}

export const defaults: Settings = {
  maxAttempts: 6,
  maxReads: 8,
  baseDelay: Duration.seconds(1),
  maxDelay: Duration.seconds(30)
}

export class FlowSettings extends Context.Reference<FlowSettings>()("@flex/worker/FlowSettings", {
  defaultValue: (): Settings => defaults
}) {}

export const config = Config.all({
  maxAttempts: Config.integer("FLEX_WORKER_MAX_ATTEMPTS").pipe(
    Config.validate({ message: "FLEX_WORKER_MAX_ATTEMPTS must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(defaults.maxAttempts)
  ),
  maxReads: Config.integer("FLEX_WORKER_MAX_READS").pipe(
    Config.validate({ message: "FLEX_WORKER_MAX_READS must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(defaults.maxReads)
  ),
  baseDelay: Durations.config("FLEX_WORKER_BACKOFF_BASE", { default: defaults.baseDelay }),
  maxDelay: Durations.config("FLEX_WORKER_BACKOFF_MAX", { default: defaults.maxDelay })
})

export const layer = Layer.effect(FlowSettings, config)

/**
 * The machine's budgets. Confirming cancels get as many as the attempts (they may be spent by the time
 * the question comes up, and the answer decides whose money moved); 429s, which do nothing, five times
 * that; a `Retry-After` is honoured up to the client's cap (60 s), never an hour-long durable sleep.
 */
export const limits = (settings: Settings): Machine.Limits => ({
  maxAttempts: settings.maxAttempts,
  maxReads: settings.maxReads,
  maxReadsAfterAmbiguous: settings.maxReads * 2,
  maxConfirms: settings.maxAttempts,
  maxThrottled: settings.maxAttempts * 5,
  backoff: RetryPolicy.make({ maxRetries: 0, initialDelay: settings.baseDelay, maxDelay: settings.maxDelay })
})

/**
 * Durations as people write them, read the same way by every flag and setting: `--older-than`,
 * `FLEX_TIMEOUT`, `FLEX_WORKER_BACKOFF_BASE` / `_MAX`, `FLEX_WORKER_STALL_THRESHOLD`. Short forms (`500ms`,
 * `2s`, `5m`, `6h`, `6d`), Effect's long ones (`500 millis`, `2 seconds`, `1 minute`), and bare seconds
 * where a setting always took seconds (`FLEX_TIMEOUT=30`). Anything else is refused with a message that
 * names the setting and the forms it takes, never guessed at.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/** The forms, for messages and `--help`. */
export const forms = "500ms, 2s, 5m, 6h, 6d, or 500 millis, 2 seconds"

const short: Record<string, (n: number) => Duration.Duration> = {
  ms: Duration.millis,
  s: Duration.seconds,
  m: Duration.minutes,
  h: Duration.hours,
  d: Duration.days
}

export interface ParseOptions {
  /** A bare number is this many seconds (for settings that took seconds before they took durations). */
  readonly bareSeconds?: boolean | undefined
}

/** The duration `text` says, if it says one; never negative. */
export const parse = (text: string, options: ParseOptions = {}): Option.Option<Duration.Duration> => {
  const trimmed = text.trim()
  const number = "(\\d+(?:\\.\\d+)?|\\.\\d+)"
  if (options.bareSeconds === true && new RegExp(`^${number}$`).test(trimmed)) {
    return Option.some(Duration.seconds(Number(trimmed)))
  }
  const match = new RegExp(`^${number}\\s*(ms|s|m|h|d)$`).exec(trimmed)
  if (match !== null) return Option.some(short[match[2]!]!(Number(match[1])))
  // Effect's own forms (`2 seconds`, `1 minute`, `500 millis`); a minus sign is no duration here.
  return trimmed.startsWith("-") ? Option.none() : Duration.decodeUnknown(trimmed)
}

/** What a refused value gets told: the name, and the forms it takes. */
export const message = (name: string, options: ParseOptions & { readonly positive?: boolean | undefined } = {}) =>
  `${name} must be a duration${options.positive === true ? " above 0" : ""}: ${forms}${
    options.bareSeconds === true ? " (or seconds: 30)" : ""
  }`

export interface ConfigOptions extends ParseOptions {
  readonly default: Duration.Duration
  /** Whether a zero duration is allowed (a setting where 0 turns something off). */
  readonly zero?: boolean | undefined
}

/** A duration setting from the environment, read with {@link parse}. */
export const config = (name: string, options: ConfigOptions): Config.Config<Duration.Duration> =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => {
      const duration = parse(raw, options)
      return Option.isSome(duration) && (options.zero === true || Duration.toMillis(duration.value) > 0)
        ? Either.right(duration.value)
        : Either.left(ConfigError.InvalidData([], message(name, { ...options, positive: options.zero !== true })))
    }),
    Config.withDefault(options.default)
  )

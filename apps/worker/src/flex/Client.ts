/**
 * The Flex client as the worker uses it: on undici, behind the stop gate and the rate limiter.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FlexClient from "@flex/http/FlexClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Durations from "../core/Durations.js"
import * as ApiRateLimiter from "./ApiRateLimiter.js"
import * as Gate from "./Gate.js"

/** `FLEX_TIMEOUT`, read as every other duration of the worker is (`2s` as well as `30` or `2 seconds`). */
export const timeoutConfig = Durations.config("FLEX_TIMEOUT", { default: Duration.seconds(30), bareSeconds: true })

/**
 * The client's settings from the environment, as `FlexClient.config` reads them except `FLEX_TIMEOUT`,
 * which the worker reads itself ({@link timeoutConfig}): `FlexClient.config` is the library's, and takes
 * only seconds or Effect's long forms. It reads the other variables through the current provider, with
 * `FLEX_TIMEOUT` hidden from it so it never refuses a value the worker accepts.
 */
export const config: Effect.Effect<FlexClient.Options, ConfigError.ConfigError> = Effect.gen(function* () {
  const timeout = yield* timeoutConfig
  const rest = yield* Effect.configProviderWith((provider) =>
    Effect.withConfigProvider(
      FlexClient.config,
      ConfigProvider.mapInputPath(provider, (name) =>
        name === "FLEX_TIMEOUT" ? "FLEX_TIMEOUT (read by the worker)" : name
      )
    )
  )
  return { ...rest, timeout }
})

/**
 * The Flex client on undici, every attempt of every call (the client's own retries of reads included)
 * taking a slot from the rate limiter first: the limit counts every request Flex sees. Cancels are
 * never retried by the client (see CancelWorkflow).
 */
export const layer = (options: { readonly flex?: Config.Config<FlexClient.Options> | undefined }) =>
  Layer.effect(
    FlexClient.FlexClient,
    Effect.gen(function* () {
      const settings = yield* options.flex ?? config
      const limiter = yield* ApiRateLimiter.ApiRateLimiter
      const drain = yield* Gate.Gate
      // The gate again after the limiter's wait: a stop may have begun meanwhile. Without a limit there is
      // no wait, and the one pass is enough.
      return yield* FlexClient.make({
        ...settings,
        beforeAttempt: Number.isFinite(limiter.rate)
          ? Effect.zipRight(drain.gate, Effect.zipRight(limiter.take, drain.gate))
          : drain.gate
      })
    })
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** The Flex client, an in-process rate limiter and the stop gate: what every API call of one process needs. */
export const flexLayer = (options: {
  readonly rate: number
  readonly flex?: Config.Config<FlexClient.Options> | undefined
}) => layer(options).pipe(Layer.provideMerge(Layer.merge(ApiRateLimiter.layer(options.rate), Gate.layer)))

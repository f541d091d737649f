/**
 * The Flex client as the worker uses it: on undici, behind the stop gate and the rate limiter.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { FlexClient } from "@flex/http"
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ApiRateLimiter from "./ApiRateLimiter.js"
import * as Gate from "./Gate.js"

/**
 * The Flex client on undici, every attempt of every call (the client's own retries of reads included)
 * taking a slot from the rate limiter first: the limit counts every request Flex sees. Cancels are
 * never retried by the client (see CancelWorkflow).
 */
export const layer = (options: { readonly flex?: Config.Config<FlexClient.Options> | undefined }) =>
  Layer.effect(
    FlexClient.FlexClient,
    Effect.gen(function* () {
      const settings = yield* options.flex ?? FlexClient.config
      const limiter = yield* ApiRateLimiter.ApiRateLimiter
      const drain = yield* Gate.Gate
      // The gate again after the limiter's wait: a stop may have begun meanwhile.
      return yield* FlexClient.make({
        ...settings,
        beforeAttempt: Effect.zipRight(drain.gate, Effect.zipRight(limiter.take, drain.gate))
      })
    })
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** The Flex client, an in-process rate limiter and the stop gate: what every API call of one process needs. */
export const flexLayer = (options: {
  readonly rate: number
  readonly flex?: Config.Config<FlexClient.Options> | undefined
}) => layer(options).pipe(Layer.provideMerge(Layer.merge(ApiRateLimiter.layer(options.rate), Gate.layer)))

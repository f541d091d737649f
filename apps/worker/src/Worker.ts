/**
 * The worker assembled: the workflow, its activities' services and an engine.
 */

import type * as RunnerAddress from "@effect/cluster/RunnerAddress"
import type * as Sharding from "@effect/cluster/Sharding"
import type * as SocketServer from "@effect/platform/SocketServer"
import { NodeHttpClient } from "@effect/platform-node"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import { FlexClient } from "@flex/http"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type { ApiRateLimiter } from "./ApiRateLimiter.js"
import * as ApiRateLimiterModule from "./ApiRateLimiter.js"
import * as CancelWorkflow from "./CancelWorkflow.js"
import * as ClusterEngine from "./ClusterEngine.js"
import * as Drain from "./Drain.js"
import * as Engine from "./Engine.js"
import * as Store from "./Store.js"
import type * as StoreLock from "./StoreLock.js"

export interface Options {
  /** A SQLite path (embedded) or a `postgres://` URL (cluster mode). */
  readonly store: string
  /** Cluster mode only: this runner's address, `host:port`. */
  readonly runnerAddress?: RunnerAddress.RunnerAddress | undefined
  /** Cluster mode only: how long a dead runner's shards stay locked (default 35 s). */
  readonly shardLockExpiration?: Duration.DurationInput | undefined
  /** API calls per second across every in-flight request. */
  readonly rate: number
  /** The Flex client's settings; by default from FLEX_API_KEY, FLEX_BASE_URL, FLEX_TIMEOUT, FLEX_MAX_RETRIES. */
  readonly flex?: Config.Config<FlexClient.Options> | undefined
  /** Attempts and backoff; by default from FLEX_WORKER_* variables (see CancelWorkflow.settingsConfig). */
  readonly settings?: Layer.Layer<CancelWorkflow.FlowSettings, ConfigError.ConfigError> | undefined
}

/**
 * The Flex client on undici, every attempt of every call (the client's own retries of reads included)
 * taking a slot from the rate limiter first: the limit counts every request Flex sees. Cancels are
 * never retried by the client (see CancelWorkflow).
 */
export const clientLayer = (options: Pick<Options, "flex">) =>
  Layer.effect(
    FlexClient.FlexClient,
    Effect.gen(function* () {
      const settings = yield* options.flex ?? FlexClient.config
      const limiter = yield* ApiRateLimiterModule.ApiRateLimiter
      const drain = yield* Drain.Drain
      // The gate again after the limiter's wait: a stop may have begun meanwhile.
      return yield* FlexClient.make({
        ...settings,
        beforeAttempt: Effect.zipRight(drain.gate, Effect.zipRight(limiter.take, drain.gate))
      })
    })
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** The Flex client, an in-process rate limiter and the stop gate: what every API call of one process needs. */
export const flexLayer = (options: Pick<Options, "rate" | "flex">) =>
  clientLayer(options).pipe(Layer.provideMerge(Layer.merge(ApiRateLimiterModule.layer(options.rate), Drain.layer)))

/**
 * The workflow on its engine, with the services its activities use. On SQLite the rate limiter is in
 * the process (one process per store); on PostgreSQL it is shared by every runner through the database.
 */
const defaultRunnerAddress = Either.getOrThrow(ClusterEngine.parseRunnerAddress(ClusterEngine.defaultRunnerAddress))

export type Provided =
  | WorkflowEngine
  | Sharding.Sharding
  | SqlClient.SqlClient
  | Store.Store
  | ApiRateLimiter
  | FlexClient.FlexClient
  | Drain.Drain

export type LayerError =
  | ConfigError.ConfigError
  | SqlError
  | StoreLock.StoreLocked
  | StoreLock.StoreUnavailable
  | SocketServer.SocketServerError

/**
 * Effect's tracer off for the worker's fibers: nothing exports its spans, and making them (the engine
 * and RPC layers open several per message) cost about 6 % of the CPU per request (bench/).
 */
const untraced = Layer.setTracerEnabled(false)

export const layer = (options: Options): Layer.Layer<Provided, LayerError> =>
  layerTraced(options).pipe(Layer.provide(untraced))

const layerTraced = (options: Options): Layer.Layer<Provided, LayerError> => {
  const where = ClusterEngine.location(options.store)
  // The settings are provided where the workflow is registered: its handler runs in the engine's fibers.
  const address = options.runnerAddress ?? defaultRunnerAddress
  const runnerName = where._tag === "Sqlite" ? "embedded" : `${address.host}:${address.port}`
  const workflow = CancelWorkflow.layer.pipe(
    Layer.provide(options.settings ?? CancelWorkflow.settingsLayer),
    Layer.provide(Layer.succeed(CancelWorkflow.RunnerName, runnerName))
  )
  if (where._tag === "Sqlite") {
    return workflow.pipe(
      Layer.provideMerge(Layer.mergeAll(Store.layer, flexLayer(options))),
      Layer.provideMerge(Engine.sqlite(where.path))
    )
  }
  return workflow.pipe(
    Layer.provideMerge(
      Layer.merge(
        Store.layer,
        clientLayer(options).pipe(
          Layer.provideMerge(Layer.merge(ApiRateLimiterModule.layerShared(options.rate), Drain.layer))
        )
      )
    ),
    Layer.provideMerge(
      ClusterEngine.postgres({
        url: where.url,
        runnerAddress: address,
        shardLockExpiration: options.shardLockExpiration
      })
    )
  )
}

/**
 * The worker assembled: the workflow, its activities' services and an engine.
 */

import type * as RunnerAddress from "@effect/cluster/RunnerAddress"
import type * as Sharding from "@effect/cluster/Sharding"
import type * as SocketServer from "@effect/platform/SocketServer"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import type { FlexClient } from "@flex/http"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Sqlite from "./engine/Sqlite.js"
import type { ApiRateLimiter } from "./flex/ApiRateLimiter.js"
import * as ApiRateLimiterModule from "./flex/ApiRateLimiter.js"
import * as Client from "./flex/Client.js"
import * as Gate from "./flex/Gate.js"
import * as CancelWorkflow from "./flow/CancelWorkflow.js"
import * as Settings from "./flow/Settings.js"
import * as Location from "./store/Location.js"
import * as Store from "./store/Store.js"
import type * as StoreLock from "./store/StoreLock.js"

export interface Options {
  /** A SQLite path (embedded) or a `postgres://` URL (cluster mode). */
  readonly store: string
  /** Cluster mode only: this runner's address, `host:port`. */
  readonly runnerAddress?: RunnerAddress.RunnerAddress | undefined
  /** Cluster mode only: how long a dead runner's shards stay locked (default 35 s). */
  readonly shardLockExpiration?: Duration.DurationInput | undefined
  /** SQLite only: which engine (by default from FLEX_WORKER_ENGINE, else the embedded one). */
  readonly engine?: Sqlite.Engine | undefined
  /** API calls per second across every in-flight request. */
  readonly rate: number
  /** The Flex client's settings; by default from FLEX_API_KEY, FLEX_BASE_URL, FLEX_TIMEOUT, FLEX_MAX_RETRIES. */
  readonly flex?: Config.Config<FlexClient.Options> | undefined
  /** Attempts and backoff; by default from FLEX_WORKER_* variables (see flow/Settings). */
  readonly settings?: Layer.Layer<Settings.FlowSettings, ConfigError.ConfigError> | undefined
}

export type Provided =
  | WorkflowEngine
  | SqlClient.SqlClient
  | Store.Store
  | ApiRateLimiter
  | FlexClient.FlexClient
  | Gate.Gate

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

/** The worker on any store: the embedded engine (or the cluster one) on SQLite, a cluster runner on PostgreSQL. */
export const layer = (options: Options): Layer.Layer<Provided, LayerError> =>
  Location.location(options.store)._tag === "Sqlite"
    ? layerSqlite(options).pipe(Layer.provide(untraced))
    : layerCluster(options)

/** The worker as a cluster runner on PostgreSQL, with the runner's `Sharding` (for singletons). */
export const layerCluster = (options: Options): Layer.Layer<Provided | Sharding.Sharding, LayerError> =>
  layerPostgres(options).pipe(Layer.provide(untraced))

/**
 * The engine modules are imported when a layer for their kind of store is built, not with this module:
 * `engine/Postgres.ts` loads the cluster's sockets, RPC and the PostgreSQL client, and
 * `engine/Sqlite.ts` loads the cluster engine only for a store that runs on it. A single `cancel` on
 * SQLite spends most of its time loading modules, so it should load no others (issue 13).
 */
const importSqlite = Effect.promise(() => import("./engine/Sqlite.js"))
const importPostgres = Effect.promise(() => import("./engine/Postgres.js"))

/**
 * The workflow on its engine, with the services its activities use. On SQLite the rate limiter is in
 * the process (one process per store); on PostgreSQL it is shared by every runner through the database.
 */
const layerSqlite = (options: Options): Layer.Layer<Provided, LayerError> => {
  const where = Location.location(options.store)
  if (where._tag !== "Sqlite") return layerPostgres(options)
  // The settings are provided where the workflow is registered: its handler runs in the engine's fibers.
  const workflow = CancelWorkflow.layer.pipe(
    Layer.provide(options.settings ?? Settings.layer),
    Layer.provide(Layer.succeed(CancelWorkflow.RunnerName, "embedded"))
  )
  return workflow.pipe(
    Layer.provideMerge(Layer.mergeAll(Store.layer, Client.flexLayer(options))),
    Layer.provideMerge(
      Layer.unwrapEffect(Effect.map(importSqlite, (Sqlite) => Sqlite.sqlite(where.path, options.engine)))
    )
  )
}

const layerPostgres = (options: Options): Layer.Layer<Provided | Sharding.Sharding, LayerError> => {
  const where = Location.location(options.store)
  if (where._tag !== "Postgres") return Layer.die(`not a PostgreSQL store: ${options.store}`)
  return Layer.unwrapEffect(Effect.map(importPostgres, (Postgres) => layerPostgresWith(Postgres, where.url, options)))
}

const layerPostgresWith = (
  Postgres: typeof import("./engine/Postgres.js"),
  url: Redacted.Redacted<string>,
  options: Options
): Layer.Layer<Provided | Sharding.Sharding, LayerError> => {
  const address = options.runnerAddress ?? Either.getOrThrow(Postgres.parseRunnerAddress(Postgres.defaultRunnerAddress))
  const workflow = CancelWorkflow.layer.pipe(
    Layer.provide(options.settings ?? Settings.layer),
    Layer.provide(Layer.succeed(CancelWorkflow.RunnerName, `${address.host}:${address.port}`))
  )
  return workflow.pipe(
    Layer.provideMerge(
      Layer.merge(
        Store.layer,
        Client.layer(options).pipe(
          Layer.provideMerge(Layer.merge(ApiRateLimiterModule.layerShared(options.rate), Gate.layer))
        )
      )
    ),
    Layer.provideMerge(
      Postgres.postgres({
        url,
        runnerAddress: address,
        shardLockExpiration: options.shardLockExpiration
      })
    )
  )
}

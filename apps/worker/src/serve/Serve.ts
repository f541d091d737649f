/**
 * `flex-worker serve`: a long-running worker with the HTTP API. On a SQLite store it is the embedded
 * engine (one process per file); on a PostgreSQL URL it is one runner of a cluster.
 *
 * Besides the HTTP server it runs, on exactly one runner of the cluster (a cluster singleton), a sweeper
 * that starts every stored request without an outcome. The API starts a request's workflow right after
 * storing it; the sweeper covers the moment in between (a crash after the 202), so no accepted request
 * is ever left without a workflow. Starting a workflow that exists already is a no-op.
 *
 * In cluster mode it also runs the stall watchdog (ClusterWatchdog): when this runner holds due engine
 * messages it neither reads nor processes for longer than FLEX_WORKER_STALL_THRESHOLD, `/healthz` says
 * 503 with the reason and the runner stops with exit code 1, for its supervisor to start it again.
 *
 * Stopped (SIGINT/SIGTERM), it drains before anything is torn down, as a batch does: no new call goes to
 * Flex, the calls on the wire get until {@link Batch.drainDeadline} to finish, and only then do the
 * engine (or the runner) and its workflows stop.
 */

import { createServer } from "node:http"
import type * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as Singleton from "@effect/cluster/Singleton"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Batch from "../cli/Batch.js"
import * as Metrics from "../core/Metrics.js"
import * as ClusterWatchdog from "../engine/ClusterWatchdog.js"
import * as Gate from "../flex/Gate.js"
import * as CancelWorkflow from "../flow/CancelWorkflow.js"
import * as Location from "../store/Location.js"
import { type PendingCursor, Store } from "../store/Store.js"
import * as Worker from "../Worker.js"
import * as HttpApi from "./HttpApi.js"

export interface Options {
  readonly store: string
  readonly host: string
  readonly port: number
  readonly token: Redacted.Redacted<string>
  readonly rate: number
  readonly runnerAddress?: RunnerAddress.RunnerAddress | undefined
  readonly shardLockExpiration?: Duration.DurationInput | undefined
  /** Cluster mode: the stall watchdog's threshold (default FLEX_WORKER_STALL_THRESHOLD, else 60 s; 0: off). */
  readonly stallThreshold?: Duration.DurationInput | undefined
  readonly settings?: Worker.Options["settings"]
  readonly flex?: Worker.Options["flex"]
}

/** Starts every pending request's workflow (idempotent), page by page. */
export const sweep = Effect.gen(function* () {
  const store = yield* Store
  let cursor: PendingCursor | undefined
  let started = 0
  for (;;) {
    const page = yield* store.pendingPage(cursor, 500)
    for (const { cursor: _, ...request } of page) {
      yield* CancelWorkflow.execute(request, { discard: true })
      started++
    }
    const last = page[page.length - 1]
    if (page.length < 500 || last === undefined) return started
    cursor = last.cursor
  }
})

const sweepLoop = sweep.pipe(
  Effect.tap((n) => (n > 0 ? Effect.logDebug(`sweeper started ${n} pending requests`) : Effect.void)),
  Effect.catchAllCause((cause) => Effect.logWarning("the pending sweeper failed; it runs again shortly", cause)),
  Effect.repeat(Schedule.spaced("10 seconds")),
  Effect.asVoid
)

/** One sweeper across the cluster's runners. */
const sweeper = Singleton.make("flex-worker/pending-sweeper", sweepLoop)

/** On SQLite one process owns the store: its sweeper needs no singleton (nor the cluster's sharding). */
const localSweeper = Layer.scopedDiscard(Effect.forkScoped(sweepLoop))

/**
 * `/healthz` answers 503 with the watchdog's reason once it has found a stall (the runner is stopping);
 * otherwise the API answers as usual.
 */
const withStallHealth = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method === "GET" && request.url.split("?")[0] === "/healthz") {
      const stalled = yield* Effect.flatMap(ClusterWatchdog.ClusterWatchdog, (watchdog) => watchdog.stalled)
      if (Option.isSome(stalled)) {
        return HttpServerResponse.unsafeJson(
          { status: "unavailable", engine: "stalled", database: "up", reason: stalled.value.message },
          { status: 503 }
        )
      }
    }
    return yield* app
  })

const watchdog = (options: Options) =>
  Location.location(options.store)._tag === "Postgres"
    ? Layer.unwrapEffect(
        Effect.map(
          options.stallThreshold === undefined
            ? ClusterWatchdog.thresholdConfig
            : Effect.succeed(options.stallThreshold),
          (threshold) => ClusterWatchdog.layerWatch({ threshold })
        )
      )
    : Layer.empty

/**
 * The stop's drain, what `gate.shield` does for a batch. Here the workflows run in the engine's fibers,
 * not under serve's, so there is no effect to shield: it is closing the engine's scope that interrupts
 * their running activities and would cut the calls on the wire. This layer is built on top of the
 * worker's, so its finalizer runs before the worker's: it waits until the calls on the wire have been
 * answered (or the deadline passed), and only then is the engine (or the runner) torn down.
 */
const drainAtStop = Layer.scopedDiscard(
  Effect.flatMap(Gate.Gate, (gate) => Effect.addFinalizer(() => gate.drain(Batch.drainDeadline)))
)

export const layer = (options: Options) => {
  const announce = Layer.effectDiscard(
    Effect.gen(function* () {
      yield* Metrics.initialize
      const http = yield* HttpServer.HttpServer
      const address = http.address._tag === "TcpAddress" ? `http://${http.address.hostname}:${http.address.port}` : "?"
      // The first line on stdout, for scripts and tests that wait for it.
      yield* Console.log(`listening on ${address}`)
    })
  )
  const web = Layer.mergeAll(HttpServer.serve(withStallHealth(HttpApi.app(options.token))), announce).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { host: options.host, port: options.port }))
  )
  if (Location.location(options.store)._tag === "Sqlite") {
    return Layer.mergeAll(web, localSweeper, drainAtStop).pipe(
      Layer.provide(Worker.layer(options)),
      Layer.provide(ClusterWatchdog.layer)
    )
  }
  return Layer.mergeAll(web, sweeper, watchdog(options), drainAtStop).pipe(
    Layer.provide(Worker.layerCluster(options)),
    Layer.provide(ClusterWatchdog.layer)
  )
}

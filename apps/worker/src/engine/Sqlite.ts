/**
 * The engine on a SQLite store. The workflow code is the same on every engine; only this layer differs.
 *
 * Two engines run on the file, both guarded by {@link StoreLock} (one process per store):
 * - `embedded` (the default): {@link Embedded}, `WorkflowEngine` written directly on the store's SQL
 *   client, a few statements per execution.
 * - `cluster`: `ClusterWorkflowEngine` on a `SingleRunner` with SQL runner storage, what every store
 *   was run with before; selectable with `FLEX_WORKER_ENGINE=cluster` (the benchmark's reference row).
 *
 * A store holding executions the other engine left unfinished is run on that engine until they are
 * done ({@link choose}): neither engine can replay the other's steps.
 */

import * as Path from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Location from "../store/Location.js"
import * as StoreLock from "../store/StoreLock.js"
import * as Embedded from "./Embedded.js"

export const defaultStore = "./.flex-worker/worker.sqlite"

/** The library's default, which every store made before `flex_worker_engine` existed was run with. */
const legacyShardsPerGroup = 300

/**
 * The number of shards of this store's embedded engine: 1 for a new store, 300 for one made before.
 *
 * One process owns the store, so shards buy nothing here, and they cost: every message sent wakes the
 * storage poll, whose query names every shard the runner owns (an `IN` list of 300 literals, prepared
 * anew each time, one index probe per shard), three polls per workflow. One shard took about 1 ms of
 * CPU off each workflow (bench/, BENCHMARKS.md). A message is stored with its shard and only owned shards
 * are polled, so a store keeps the number it was made with: it is recorded on first use.
 */
const shardsPerGroup = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`CREATE TABLE IF NOT EXISTS flex_worker_engine (setting TEXT PRIMARY KEY, value TEXT NOT NULL)`
      const recorded = yield* sql<{ value: string }>`SELECT value FROM flex_worker_engine
        WHERE setting = 'shards_per_group'`
      if (recorded[0] !== undefined) return Number(recorded[0].value)
      const engineTables = yield* sql`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_messages'`
      const shards = engineTables.length > 0 ? legacyShardsPerGroup : 1
      yield* sql`INSERT INTO flex_worker_engine (setting, value) VALUES ('shards_per_group', ${String(shards)})`
      return shards
    })
  )
)

export type Engine = "embedded" | "cluster"

export const defaultEngine: Engine = "embedded"

/** `FLEX_WORKER_ENGINE`: which engine runs a SQLite store. */
export const engineConfig: Config.Config<Engine> = Config.literal(
  "embedded",
  "cluster"
)("FLEX_WORKER_ENGINE").pipe(Config.withDefault(defaultEngine))

const tableExists = (sql: SqlClient.SqlClient, name: string) =>
  Effect.map(sql`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ${name}`, (rows) => rows.length > 0)

/**
 * Whether the cluster engine left work in the store: an entity message (a workflow's run, an activity,
 * a durable clock's wake-up) it has not processed. A finished execution's messages are all processed.
 */
export const clusterUnfinished = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  if (!(yield* tableExists(sql, "cluster_messages"))) return false
  const rows = yield* sql`SELECT 1 FROM cluster_messages WHERE processed = FALSE AND kind = 0 LIMIT 1`
  return rows.length > 0
})

/** Whether the embedded engine left executions in the store that are not complete. */
export const embeddedUnfinished = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  if (!(yield* tableExists(sql, "flex_engine_executions"))) return false
  const rows = yield* sql`SELECT 1 FROM flex_engine_executions WHERE status IN ('running', 'suspended') LIMIT 1`
  return rows.length > 0
})

/**
 * The engine for this run: the one asked for, unless the other one has unfinished executions in the
 * store. Those are finished on the engine that started them (neither can replay the other's steps),
 * and the next run on the store, with nothing of theirs left, uses the one asked for.
 */
export const choose = (requested: Engine) =>
  Effect.gen(function* () {
    const other: Engine = requested === "embedded" ? "cluster" : "embedded"
    const unfinished = yield* other === "cluster" ? clusterUnfinished : embeddedUnfinished
    if (!unfinished) {
      yield* Effect.logDebug(`engine: ${requested}`)
      return requested
    }
    yield* Effect.logInfo(
      `the store holds executions the ${other} engine started and has not finished: this run finishes them on it`
    )
    return other
  })

const importCluster = Effect.promise(async () => {
  const [ClusterWorkflowEngine, SingleRunner] = await Promise.all([
    import("@effect/cluster/ClusterWorkflowEngine"),
    import("@effect/cluster/SingleRunner")
  ])
  return { ClusterWorkflowEngine, SingleRunner }
})

export const sqlite = (store: string, requested?: Engine) => {
  const lock = Layer.scopedDiscard(
    Effect.zipRight(
      Effect.mapError(
        Location.ensureDirectory(Path.dirname(Path.resolve(store))),
        (reason) => new StoreLock.StoreUnavailable({ store, reason })
      ),
      StoreLock.acquire(store)
    )
  )
  // WAL with synchronous=NORMAL: a commit survives a crash of the process (kill -9 included); only an
  // operating-system crash or power loss can lose the last commits. FULL would fsync every message.
  // StoreLock.client: another process's lock on the file is waited out, asynchronously.
  const client = Layer.effectDiscard(
    Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.orDie(sql`PRAGMA synchronous = NORMAL`))
  ).pipe(Layer.provideMerge(StoreLock.client(store)))
  // The cluster engine's modules (sharding, RPC, message storage) are imported only for a store that runs
  // on it: most runs, a single `cancel` among them, use the embedded engine and should not load them.
  const cluster = Layer.unwrapEffect(
    Effect.zipWith(shardsPerGroup, importCluster, (shards, { ClusterWorkflowEngine, SingleRunner }) =>
      ClusterWorkflowEngine.layer.pipe(
        Layer.provideMerge(
          SingleRunner.layer({
            runnerStorage: "sql",
            shardingConfig: {
              shardsPerGroup: shards,
              // One process owns the file (StoreLock), so messages are delivered in-process at once; the
              // poll only picks up what a crash left behind, and need not wait the default 10 s.
              entityMessagePollInterval: Duration.seconds(1),
              entityReplyPollInterval: Duration.millis(50),
              // A stop drains the calls on the wire first (Drain, up to 9 s); what is left then is held at
              // the gate or sleeping in a backoff, and resumes on the next start: no reason to wait long.
              entityTerminationTimeout: Duration.seconds(2),
              // The shard locks guard nothing here (StoreLock does), but the engine gives their refresh
              // one interval to succeed and, past it, interrupts every workflow: the interval must outlast
              // the 60 s a statement waits out a foreign lock on the file (StoreLock.client), not the
              // default 10 s. The expiration only matters to another runner address, which never comes.
              shardLockRefreshInterval: Duration.seconds(65),
              shardLockExpiration: Duration.minutes(4),
              // A finished workflow's entity is not needed again; keeping it a minute (the default) holds
              // thousands of them in memory during a large batch.
              entityMaxIdleTime: Duration.seconds(5)
            }
          })
        )
      )
    )
  )
  const engine: Layer.Layer<WorkflowEngine, SqlError | ConfigError.ConfigError, SqlClient.SqlClient> =
    Layer.unwrapEffect(
      Effect.flatMap(requested === undefined ? engineConfig : Effect.succeed(requested), (engine) =>
        Effect.map(choose(engine), (chosen) => (chosen === "embedded" ? Embedded.layer : cluster))
      )
    )
  // The lock is taken before the database is opened, and released after it is closed.
  return engine.pipe(Layer.provideMerge(client), Layer.provideMerge(lock))
}

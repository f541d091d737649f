/**
 * The engine layers. The workflow code is the same on every engine; only this layer differs.
 *
 * Embedded (the default): `ClusterWorkflowEngine` on a `SingleRunner` with SQL runner storage, on one
 * SQLite file, guarded by {@link StoreLock} so no second process ever opens it as a runner.
 */

import { mkdirSync } from "node:fs"
import * as Path from "node:path"
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as SingleRunner from "@effect/cluster/SingleRunner"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as StoreLock from "./StoreLock.js"

export const defaultStore = "./.flex-worker/worker.sqlite"

export const sqlite = (store: string) => {
  const lock = Layer.scopedDiscard(
    Effect.zipRight(
      Effect.try({
        try: () => mkdirSync(Path.dirname(Path.resolve(store)), { recursive: true }),
        catch: (error) => new StoreLock.StoreUnavailable({ store, reason: (error as Error).message })
      }),
      StoreLock.acquire(store)
    )
  )
  // WAL with synchronous=NORMAL: a commit survives a crash of the process (kill -9 included); only an
  // operating-system crash or power loss can lose the last commits. FULL would fsync every message.
  const client = Layer.effectDiscard(
    Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.orDie(sql`PRAGMA synchronous = NORMAL`))
  ).pipe(Layer.provideMerge(SqliteClient.layer({ filename: store })))
  const engine = ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(
      SingleRunner.layer({
        runnerStorage: "sql",
        shardingConfig: {
          // One process owns the file (StoreLock), so messages are delivered in-process at once; the
          // poll only picks up what a crash left behind, and need not wait the default 10 s.
          entityMessagePollInterval: Duration.seconds(1),
          entityReplyPollInterval: Duration.millis(50),
          entityTerminationTimeout: Duration.seconds(10),
          // A finished workflow's entity is not needed again; keeping it a minute (the default) holds
          // thousands of them in memory during a large batch.
          entityMaxIdleTime: Duration.seconds(5)
        }
      })
    )
  )
  // The lock is taken before the database is opened, and released after it is closed.
  return engine.pipe(Layer.provideMerge(client), Layer.provideMerge(lock))
}

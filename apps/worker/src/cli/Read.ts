/**
 * `flex-worker report` and `flex-worker show`: read a store, SQLite or PostgreSQL, never create one.
 * Loaded only when one of them runs; PostgreSQL's client only for a postgres:// store.
 */
import { existsSync } from "node:fs"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Location from "../store/Location.js"
import * as Store from "../store/Store.js"
import * as StoreLock from "../store/StoreLock.js"
import * as Input from "./Input.js"
import * as Report from "./Report.js"
import * as Show from "./Show.js"

/** Runs `f` on the store at `store`, which must exist if it is a file (reading never creates one). */
const reading = <A, E>(store: string, f: (store: Store.Service) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const where = Location.location(store)
    if (where._tag === "Sqlite" && !existsSync(where.path)) {
      return yield* Effect.fail(
        new Input.InputError({ message: `No store at ${store} (pass --store, or set FLEX_WORKER_DATABASE_URL)` })
      )
    }
    const client: Layer.Layer<SqlClient.SqlClient, ConfigError.ConfigError | SqlError> =
      where._tag === "Sqlite"
        ? StoreLock.client(where.path)
        : Layer.unwrapEffect(
            Effect.map(
              Effect.promise(() => import("@effect/sql-pg/PgClient")),
              (PgClient) => PgClient.layer({ url: where.url })
            )
          )
    return yield* Effect.flatMap(Store.Store, f).pipe(Effect.provide(Store.layer.pipe(Layer.provide(client))))
  })

export const report = (options: { readonly store: string; readonly json: boolean }) =>
  Effect.gen(function* () {
    const rows = yield* reading(options.store, (s) => s.all)
    const result = Report.empty()
    for (const row of rows) Report.add(result, row.outcome)
    yield* Console.log(
      options.json ? JSON.stringify(Report.toJson(result, options.store)) : Report.toText(result, options.store)
    )
  })

export const show = (options: { readonly id: string; readonly store: string; readonly json: boolean }) =>
  Effect.gen(function* () {
    const found = yield* reading(options.store, (s) => s.history(options.id.trim()))
    if (found.length === 0) {
      return yield* Effect.fail(
        new Input.InputError({
          message: `no request for ${options.id.trim()} in ${Location.describe(Location.location(options.store))}`
        })
      )
    }
    yield* Console.log(
      options.json ? JSON.stringify({ requests: found.map(Show.toJson) }) : found.map(Show.toText).join("\n\n")
    )
  })

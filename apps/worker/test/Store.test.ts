/**
 * The store on its real databases: a SQLite file and a PostgreSQL database (one contract for both).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import type * as ConfigError from "effect/ConfigError"
import type * as Scope from "effect/Scope"
import * as CancelRequest from "../src/CancelRequest.js"
import * as StoreModule from "../src/Store.js"
import { Store } from "../src/Store.js"
import { tempStore } from "./support/harness.js"
import * as Pg from "./support/pg.js"

const intent = (n: number) => `fpi_01J9M9S346Q3D25VT4F5V37${String(n).padStart(3, "0")}`
const request = (requestId: string, n: number): CancelRequest.CancelRequest => ({
  ...CancelRequest.make(intent(n)),
  requestId
})

const contract = (
  database: string,
  client: Effect.Effect<Layer.Layer<SqlClient.SqlClient, ConfigError.ConfigError | SqlError>, never, Scope.Scope>
) =>
  describe(`the store on ${database}`, () => {
    it.scoped("a body with a conflicting request id stores none of its requests", () =>
      Effect.gen(function* () {
        const store = Context.get(yield* Layer.build(StoreModule.layer.pipe(Layer.provide(yield* client))), Store)
        const first = yield* store.submit([request("order-1", 1)])
        assert.deepStrictEqual(
          first.map((r) => r._tag),
          ["New"]
        )
        // New requests before and after the conflict, and a known one: all refused together.
        const refused = yield* store.submit([
          request("order-2", 2),
          request("order-1", 9),
          request("order-1", 1),
          request("order-3", 3)
        ])
        assert.deepStrictEqual(
          refused.map((r) => [r._tag, r.request.requestId]),
          [["Conflict", "order-1"]]
        )
        assert.isTrue(Option.isNone(yield* store.get("order-2")))
        assert.isTrue(Option.isNone(yield* store.get("order-3")))
        assert.deepStrictEqual(yield* store.counts, { requests: 1, outcomes: 0 })
        // Two ids of one body naming different intents conflict with each other: nothing stored either.
        const within = yield* store.submit([request("order-4", 4), request("order-4", 5)])
        assert.deepStrictEqual(
          within.map((r) => r._tag),
          ["Conflict"]
        )
        assert.isTrue(Option.isNone(yield* store.get("order-4")))
        // Without the conflict, the same body is stored whole.
        const stored = yield* store.submit([request("order-2", 2), request("order-1", 1), request("order-3", 3)])
        assert.deepStrictEqual(
          stored.map((r) => r._tag),
          ["New", "Existing", "New"]
        )
        assert.deepStrictEqual(yield* store.counts, { requests: 3, outcomes: 0 })
      })
    )
  })

contract(
  "a SQLite file",
  Effect.map(tempStore, (filename) => SqliteClient.layer({ filename }))
)

if (Pg.url !== undefined) {
  contract(
    "PostgreSQL",
    Effect.map(Pg.freshDatabase, (db) => PgClient.layer({ url: Redacted.make(db.url) }))
  )
} else {
  describe("the store on PostgreSQL", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}

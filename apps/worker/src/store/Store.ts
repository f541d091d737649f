/**
 * The worker's own tables, next to the engine's: requests as they were accepted, the marker of each
 * cancel attempt that started (so a re-run after a crash reads before it cancels again), and one
 * outcome row per request. Plain SQL that runs on SQLite and PostgreSQL alike; on the worker's SQLite
 * client the statements every cancellation runs take its fast path ({@link SqliteClient.runner}).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { CancelRequest } from "../core/CancelRequest.js"
import * as Outcome from "../core/Outcome.js"
import * as SqliteClient from "./SqliteClient.js"

export interface StoredOutcome {
  readonly requestId: string
  readonly outcome: Outcome.Outcome
  readonly recordedAt: string
}

/** What intake made of one input. */
export type Intake =
  | { readonly _tag: "Accepted" }
  | { readonly _tag: "Duplicate" }
  | { readonly _tag: "Done"; readonly outcome: Outcome.Outcome }

/** A request as the HTTP API shows it. */
export interface RequestState {
  readonly request: CancelRequest
  readonly acceptedAt: string
  readonly outcome: Option.Option<{
    readonly outcome: Outcome.Outcome
    readonly recordedAt: string
    readonly recordedBy: string | null
  }>
}

/** One cancel attempt as `cancellation_attempts` has it: when it started, and by which process. */
export interface Attempt {
  readonly generation: number
  readonly attempt: number
  readonly startedAt: string
  readonly session: string | null
}

/** A request with everything the store knows of it (`flex-worker show`). */
export interface History extends RequestState {
  readonly attempts: ReadonlyArray<Attempt>
  /** The outcomes of earlier generations, replaced by `--retry-gave-up`. */
  readonly superseded: ReadonlyArray<{
    readonly generation: number
    readonly outcome: Outcome.Outcome
    readonly recordedAt: string
  }>
}

/** What submitting one request made of it. */
export type Submitted =
  | { readonly _tag: "New"; readonly request: CancelRequest }
  | { readonly _tag: "Existing"; readonly request: CancelRequest; readonly done: boolean }
  | { readonly _tag: "Conflict"; readonly request: CancelRequest; readonly existingIntent: string }

/** A body of requests refused because some of its request ids name other intents (never leaves submit). */
class Conflicted extends Data.TaggedError("Conflicted")<{
  readonly conflicts: ReadonlyArray<Extract<Submitted, { _tag: "Conflict" }>>
}> {}

export interface Service {
  /**
   * This store's id, made when the store was created and kept in it: part of every idempotency key, so
   * that two stores (a rerun after deleting one, another team's worker) never send the same key for
   * the same request. `undefined` for a store made before ids existed: its requests keep the keys
   * they were sent with.
   */
  readonly id: string | undefined
  /**
   * Stores requests from the HTTP API in one transaction; a known request id comes back as it is
   * (never a second cancellation). All or nothing: if any request id names another intent, nothing is
   * stored and only the conflicts come back.
   */
  readonly submit: (requests: ReadonlyArray<CancelRequest>) => Effect.Effect<ReadonlyArray<Submitted>, SqlError>
  readonly get: (requestId: string) => Effect.Effect<Option.Option<RequestState>, SqlError>
  /**
   * The requests whose request id is `id`, or whose intent is `id` (in any letter case; the API may have
   * taken several request ids for one intent), in the order they were accepted, each with its history.
   */
  readonly history: (id: string) => Effect.Effect<ReadonlyArray<History>, SqlError>
  /** Records a request; returns the stored one (an existing request keeps its generation and reason). */
  readonly accept: (request: CancelRequest) => Effect.Effect<CancelRequest, SqlError>
  /**
   * Stores a chunk of requests of batch `batch` in one transaction. A request seen before in the same
   * batch is a duplicate; one with an outcome is done (unless `retryGaveUp` and it gave up: then it
   * moves to its next generation and is accepted again); anything else is accepted and pending.
   */
  readonly intake: (
    requests: ReadonlyArray<CancelRequest>,
    batch: string,
    retryGaveUp: boolean
  ) => Effect.Effect<ReadonlyArray<Intake>, SqlError>
  /** A page of requests without an outcome, in the order they were accepted, after a keyset cursor. */
  readonly pendingPage: (
    after: PendingCursor | undefined,
    limit: number
  ) => Effect.Effect<ReadonlyArray<CancelRequest & { readonly cursor: PendingCursor }>, SqlError>
  readonly outcome: (requestId: string) => Effect.Effect<Option.Option<Outcome.Outcome>, SqlError>
  /** Inserts the outcome unless the request has one already; returns the stored one. */
  readonly record: (
    requestId: string,
    outcome: Outcome.Outcome,
    recordedBy?: string
  ) => Effect.Effect<Outcome.Outcome, SqlError>
  /**
   * Marks a cancel attempt as started by this process (`session`). `rerun`: this attempt had been started
   * before (by a process that died in it); `resumed`: the request's previous attempt was made by another
   * process (this one took it over after a restart or a failover).
   */
  readonly markAttempt: (
    requestId: string,
    generation: number,
    attempt: number,
    session: string
  ) => Effect.Effect<{ readonly rerun: boolean; readonly resumed: boolean }, SqlError>
  /**
   * Moves a request that may succeed on another run (see {@link retryable}) to its next generation, so
   * it runs again; none when its outcome is not one of those.
   */
  readonly retryGaveUp: (requestId: string) => Effect.Effect<Option.Option<CancelRequest>, SqlError>
  readonly all: Effect.Effect<ReadonlyArray<StoredOutcome>, SqlError>
  readonly counts: Effect.Effect<{ readonly requests: number; readonly outcomes: number }, SqlError>
}

export interface PendingCursor {
  readonly acceptedAt: string
  readonly requestId: string
}

export class Store extends Context.Tag("@flex/worker/Store")<Store, Service>() {}

/**
 * The outcomes `--retry-gave-up` (and the API's `retry_gave_up`) run again: `GaveUp` (still
 * processing, unreadable, out of attempts), and `Rejected`, which stores made before a refused key
 * stopped the batch could record.
 */
export const retryable: ReadonlyArray<Outcome.Tag> = ["GaveUp", "Rejected"]

const encodeOutcome = Schema.encodeSync(Schema.parseJson(Outcome.Outcome))
const decodeOutcome = Schema.decodeSync(Schema.parseJson(Outcome.Outcome))

export const migrate = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS cancellation_requests (
    request_id TEXT PRIMARY KEY,
    payment_intent_id TEXT NOT NULL,
    reason TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    batch TEXT,
    accepted_at TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS cancellation_requests_accepted ON cancellation_requests (accepted_at, request_id)`
  yield* sql`CREATE TABLE IF NOT EXISTS cancellation_attempts (
    request_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    session TEXT,
    PRIMARY KEY (request_id, generation, attempt)
  )`
  yield* sql`CREATE TABLE IF NOT EXISTS cancellation_outcomes (
    request_id TEXT PRIMARY KEY,
    payment_intent_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    intent_status TEXT,
    amount_released BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    api_calls INTEGER NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT
  )`
  yield* sql`CREATE TABLE IF NOT EXISTS flex_worker_store (
    singleton INTEGER PRIMARY KEY,
    store_id TEXT,
    created_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE IF NOT EXISTS cancellation_outcomes_superseded (
    request_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    detail TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (request_id, generation)
  )`
})

interface RequestRow {
  readonly request_id: string
  readonly payment_intent_id: string
  readonly reason: string | null
  readonly generation: number | string
  readonly batch?: string | null
  readonly accepted_at?: string
}

const toRequest = (row: RequestRow): CancelRequest => ({
  requestId: row.request_id,
  paymentIntentId: row.payment_intent_id,
  ...(row.reason === null ? {} : { reason: row.reason }),
  generation: Number(row.generation)
})

/**
 * The store's id, made on first use. A store that already holds attempts from a version without ids
 * gets none (`NULL`): its requests in flight must keep sending the keys they were sent with, or a
 * confirming cancel could no longer recognise our own earlier cancel.
 */
const storeId = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const existing = yield* sql<{ store_id: string | null }>`SELECT store_id FROM flex_worker_store WHERE singleton = 1`
  if (existing[0] !== undefined) return existing[0].store_id ?? undefined
  const earlier = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM cancellation_attempts`
  const id = Number(earlier[0]?.n ?? 0) > 0 ? null : crypto.randomUUID().replaceAll("-", "")
  // Many runners may open a new PostgreSQL store at once: the first insert wins, all read it back.
  yield* sql`INSERT INTO flex_worker_store (singleton, store_id, created_at) VALUES (1, ${id}, ${new Date().toISOString()})
    ON CONFLICT (singleton) DO NOTHING`
  const stored = yield* sql<{ store_id: string | null }>`SELECT store_id FROM flex_worker_store WHERE singleton = 1`
  return stored[0]?.store_id ?? undefined
})

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const run = SqliteClient.runner(sql)
  yield* migrate
  const id = yield* storeId
  const now = () => new Date().toISOString()

  const find = (requestId: string) =>
    Effect.map(
      sql<RequestRow>`SELECT request_id, payment_intent_id, reason, generation FROM cancellation_requests WHERE request_id = ${requestId}`,
      (rows) => Option.map(Option.fromNullable(rows[0]), toRequest)
    )

  const outcome: Service["outcome"] = (requestId) =>
    Effect.map(
      run(sql<{ detail: string }>`SELECT detail FROM cancellation_outcomes WHERE request_id = ${requestId}`),
      (rows) => Option.map(Option.fromNullable(rows[0]), (row) => decodeOutcome(row.detail))
    )

  const retryGaveUp: Service["retryGaveUp"] = (requestId) =>
    Effect.gen(function* () {
      const request = yield* find(requestId)
      const rows = yield* sql<{ detail: string }>`SELECT detail FROM cancellation_outcomes
        WHERE request_id = ${requestId} AND outcome IN ('GaveUp', 'Rejected')`
      if (Option.isNone(request) || rows.length === 0) return Option.none()
      yield* sql`INSERT INTO cancellation_outcomes_superseded (request_id, generation, detail, recorded_at)
        VALUES (${requestId}, ${request.value.generation}, ${rows[0]!.detail}, ${now()}) ON CONFLICT DO NOTHING`
      yield* sql`DELETE FROM cancellation_outcomes WHERE request_id = ${requestId}`
      yield* sql`UPDATE cancellation_requests SET generation = generation + 1 WHERE request_id = ${requestId}`
      return Option.some({ ...request.value, generation: request.value.generation + 1 })
    })

  const intakeOne = (request: CancelRequest, batch: string, retry: boolean) =>
    Effect.gen(function* () {
      // One statement for a new request (the usual case); only a known one is read.
      const inserted = yield* run(sql`INSERT INTO cancellation_requests
          (request_id, payment_intent_id, reason, generation, batch, accepted_at)
        VALUES (${request.requestId}, ${request.paymentIntentId}, ${request.reason ?? null}, 0, ${batch}, ${now()})
        ON CONFLICT (request_id) DO NOTHING RETURNING 1 AS inserted`)
      if (inserted.length > 0) return { _tag: "Accepted" } as const
      const rows = yield* run(sql<{ batch: string | null }>`SELECT batch FROM cancellation_requests
        WHERE request_id = ${request.requestId}`)
      const existing = rows[0]
      // Not there after a conflict: deleted meanwhile, which nothing does.
      if (existing === undefined) return yield* Effect.dieMessage(`request ${request.requestId} vanished`)
      if (existing.batch === batch) return { _tag: "Duplicate" } as const
      yield* sql`UPDATE cancellation_requests SET batch = ${batch} WHERE request_id = ${request.requestId}`
      const stored = yield* outcome(request.requestId)
      if (Option.isNone(stored)) return { _tag: "Accepted" } as const
      if (retry && retryable.includes(stored.value._tag)) {
        yield* retryGaveUp(request.requestId)
        return { _tag: "Accepted" } as const
      }
      return { _tag: "Done", outcome: stored.value } as const
    })

  const submitOne = (request: CancelRequest) =>
    Effect.gen(function* () {
      const existing = yield* find(request.requestId)
      if (Option.isNone(existing)) {
        yield* sql`INSERT INTO cancellation_requests (request_id, payment_intent_id, reason, generation, batch, accepted_at)
          VALUES (${request.requestId}, ${request.paymentIntentId}, ${request.reason ?? null}, 0, NULL, ${now()})`
        return { _tag: "New", request } as const
      }
      if (existing.value.paymentIntentId.toLowerCase() !== request.paymentIntentId.toLowerCase()) {
        return { _tag: "Conflict", request, existingIntent: existing.value.paymentIntentId } as const
      }
      const done = Option.isSome(yield* outcome(request.requestId))
      return { _tag: "Existing", request: existing.value, done } as const
    })

  const get: Service["get"] = (requestId) =>
    Effect.gen(function* () {
      const rows = yield* sql<RequestRow>`SELECT request_id, payment_intent_id, reason, generation, accepted_at
          FROM cancellation_requests WHERE request_id = ${requestId}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      const outcomes = yield* sql<{ detail: string; recorded_at: string; recorded_by: string | null }>`SELECT detail,
          recorded_at, recorded_by FROM cancellation_outcomes WHERE request_id = ${requestId}`
      const done = outcomes[0]
      return Option.some({
        request: toRequest(row),
        acceptedAt: row.accepted_at!,
        outcome:
          done === undefined
            ? Option.none()
            : Option.some({
                outcome: decodeOutcome(done.detail),
                recordedAt: done.recorded_at,
                recordedBy: done.recorded_by
              })
      })
    })

  const service: Service = {
    id,
    submit: (requests) =>
      sql
        .withTransaction(
          Effect.flatMap(Effect.forEach(requests, submitOne), (results) => {
            const conflicts = results.filter((r) => r._tag === "Conflict")
            // Returned as a value, the conflict would commit the rows inserted before it: a failure rolls
            // them back.
            return conflicts.length === 0 ? Effect.succeed(results) : Effect.fail(new Conflicted({ conflicts }))
          })
        )
        .pipe(Effect.catchTag("Conflicted", (conflicted) => Effect.succeed(conflicted.conflicts))),
    get,
    history: (id) =>
      Effect.gen(function* () {
        const ids = yield* sql<{ request_id: string }>`SELECT request_id FROM cancellation_requests
          WHERE request_id = ${id} OR LOWER(payment_intent_id) = ${id.toLowerCase()}
          ORDER BY accepted_at, request_id`
        return yield* Effect.forEach(ids, ({ request_id }) =>
          Effect.gen(function* () {
            const state = yield* get(request_id)
            const attempts = yield* sql<{
              generation: number | string
              attempt: number | string
              started_at: string
              session: string | null
            }>`SELECT generation, attempt, started_at, session FROM cancellation_attempts
              WHERE request_id = ${request_id} ORDER BY generation, attempt`
            const superseded = yield* sql<{ generation: number | string; detail: string; recorded_at: string }>`SELECT
              generation, detail, recorded_at FROM cancellation_outcomes_superseded
              WHERE request_id = ${request_id} ORDER BY generation`
            return Option.map(
              state,
              (state): History => ({
                ...state,
                attempts: attempts.map((a) => ({
                  generation: Number(a.generation),
                  attempt: Number(a.attempt),
                  startedAt: a.started_at,
                  session: a.session
                })),
                superseded: superseded.map((s) => ({
                  generation: Number(s.generation),
                  outcome: decodeOutcome(s.detail),
                  recordedAt: s.recorded_at
                }))
              })
            )
          })
        ).pipe(Effect.map((found) => found.flatMap((h) => (Option.isSome(h) ? [h.value] : []))))
      }),
    intake: (requests, batch, retry) =>
      sql.withTransaction(Effect.forEach(requests, (request) => intakeOne(request, batch, retry))),
    pendingPage: (after, limit) =>
      Effect.map(
        after === undefined
          ? sql<RequestRow>`SELECT r.request_id, r.payment_intent_id, r.reason, r.generation, r.accepted_at
              FROM cancellation_requests r
              WHERE NOT EXISTS (SELECT 1 FROM cancellation_outcomes o WHERE o.request_id = r.request_id)
              ORDER BY r.accepted_at, r.request_id LIMIT ${limit}`
          : sql<RequestRow>`SELECT r.request_id, r.payment_intent_id, r.reason, r.generation, r.accepted_at
              FROM cancellation_requests r
              WHERE NOT EXISTS (SELECT 1 FROM cancellation_outcomes o WHERE o.request_id = r.request_id)
                AND (r.accepted_at > ${after.acceptedAt} OR (r.accepted_at = ${after.acceptedAt} AND r.request_id > ${after.requestId}))
              ORDER BY r.accepted_at, r.request_id LIMIT ${limit}`,
        (rows) =>
          rows.map((row) => ({
            ...toRequest(row),
            cursor: { acceptedAt: row.accepted_at!, requestId: row.request_id }
          }))
      ),
    accept: (request) =>
      Effect.gen(function* () {
        yield* sql`INSERT INTO cancellation_requests (request_id, payment_intent_id, reason, generation, accepted_at)
          VALUES (${request.requestId}, ${request.paymentIntentId}, ${request.reason ?? null}, ${request.generation}, ${now()})
          ON CONFLICT (request_id) DO NOTHING`
        return Option.getOrElse(yield* find(request.requestId), () => request)
      }),
    outcome,
    record: (requestId, value, recordedBy) =>
      Effect.gen(function* () {
        const status = "status" in value ? (value.status ?? null) : null
        const reason = Outcome.reasonOf(value)
        // One statement when the row is new (the usual case): RETURNING gives it back; only a conflict
        // (an activity run again after a crash) reads the row that stands.
        const inserted = yield* run(sql<{ detail: string }>`INSERT INTO cancellation_outcomes
          (request_id, payment_intent_id, outcome, intent_status, amount_released, attempts, api_calls, reason, detail, recorded_at, recorded_by)
          VALUES (${requestId}, ${value.paymentIntentId}, ${value._tag}, ${status}, ${Outcome.amountReleased(value)},
            ${value.attempts}, ${value.apiCalls}, ${reason === "" ? null : reason}, ${encodeOutcome(value)}, ${now()}, ${recordedBy ?? null})
          ON CONFLICT (request_id) DO NOTHING RETURNING detail`)
        if (inserted[0] !== undefined) return decodeOutcome(inserted[0].detail)
        return Option.getOrElse(yield* outcome(requestId), () => value)
      }),
    markAttempt: (requestId, generation, attempt, session) =>
      Effect.gen(function* () {
        // One statement when the attempt is new (the usual case): the insert returns what the request's
        // other attempts say, its latest one's session. The subqueries leave this attempt out, so they
        // read the same whether or not they see the row being inserted (SQLite and PostgreSQL differ).
        const inserted = yield* run(sql<{
          has_previous: number | string
          previous_session: string | null
        }>`INSERT INTO cancellation_attempts (request_id, generation, attempt, started_at, session)
          VALUES (${requestId}, ${generation}, ${attempt}, ${now()}, ${session}) ON CONFLICT DO NOTHING
          RETURNING
            CASE WHEN EXISTS (SELECT 1 FROM cancellation_attempts p WHERE p.request_id = ${requestId}
              AND p.generation = ${generation} AND p.attempt <> ${attempt}) THEN 1 ELSE 0 END AS has_previous,
            (SELECT p.session FROM cancellation_attempts p WHERE p.request_id = ${requestId}
              AND p.generation = ${generation} AND p.attempt <> ${attempt}
              ORDER BY p.attempt DESC LIMIT 1) AS previous_session`)
        const row = inserted[0]
        if (row !== undefined) {
          return { rerun: false, resumed: Number(row.has_previous) === 1 && row.previous_session !== session }
        }
        // The attempt was started before, by a process that died in it. This one takes it over: its next
        // attempt is not "resumed" again.
        yield* run(sql`UPDATE cancellation_attempts SET session = ${session}
          WHERE request_id = ${requestId} AND generation = ${generation} AND attempt = ${attempt}`)
        return { rerun: true, resumed: true }
      }),
    retryGaveUp: (requestId) => sql.withTransaction(retryGaveUp(requestId)),
    all: Effect.map(
      sql<{ request_id: string; detail: string; recorded_at: string }>`SELECT request_id, detail, recorded_at
        FROM cancellation_outcomes ORDER BY recorded_at, request_id`,
      (rows) =>
        rows.map((row) => ({
          requestId: row.request_id,
          outcome: decodeOutcome(row.detail),
          recordedAt: row.recorded_at
        }))
    ),
    counts: Effect.map(
      sql<{ requests: number | string; outcomes: number | string }>`SELECT
        (SELECT COUNT(*) FROM cancellation_requests) AS requests,
        (SELECT COUNT(*) FROM cancellation_outcomes) AS outcomes`,
      (rows) => ({ requests: Number(rows[0]?.requests ?? 0), outcomes: Number(rows[0]?.outcomes ?? 0) })
    )
  }
  return service
})

export const layer: Layer.Layer<Store, SqlError, SqlClient.SqlClient> = Layer.effect(Store, make)

/**
 * The HTTP API of `flex-worker serve`: other services submit cancellations and read their outcomes;
 * operators probe `/healthz` and scrape `/metrics`.
 *
 * - `POST /cancellations`: `{"payment_intent_id", "reason"?, "request_id"?}` or `{"cancellations": [...]}`
 *   (at most 1,000) → 202. A request is stored before the answer, and resubmitting a request id returns
 *   the stored request, never a second cancellation.
 *   With `"retry_gave_up": true`, a request whose outcome is `GaveUp` (still processing, say) runs again
 *   as its next generation, as `flex-worker cancel --retry-gave-up` does.
 * - `GET /cancellations/{request_id}`: the request's state and, when done, its outcome.
 * - `GET /healthz` (engine and database reachable, the API key not refused by Flex; else 503 with the
 *   reason) and `GET /metrics` (Prometheus text).
 *
 * The cancellation routes need `Authorization: Bearer <FLEX_WORKER_API_TOKEN>`; health and metrics
 * carry no request data and are open, for load balancers and scrapers.
 */

import { timingSafeEqual } from "node:crypto"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as SqlClient from "@effect/sql/SqlClient"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import { DecodeFailure, Ids } from "@flex/domain"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as CancelRequest from "../core/CancelRequest.js"
import * as Metrics from "../core/Metrics.js"
import * as Outcome from "../core/Outcome.js"
import * as Gate from "../flex/Gate.js"
import * as CancelWorkflow from "../flow/CancelWorkflow.js"
import { Store } from "../store/Store.js"

/** The largest body `POST /cancellations` reads; 1,000 cancellations with reasons fit well inside. */
export const maxBodyBytes = 1024 * 1024
export const maxBatch = 1000

const RequestId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, {
    message: () => ({
      message: "Expected a request id: 1 to 200 letters, digits, '_', '.', ':' or '-', starting with a letter or digit",
      override: true
    })
  })
)

const Cancellation = Schema.Struct({
  payment_intent_id: Ids.PaymentIntentId,
  reason: Schema.optional(Schema.String.pipe(Schema.maxLength(500))),
  request_id: Schema.optional(RequestId),
  retry_gave_up: Schema.optional(Schema.Boolean)
})

const Batch = Schema.Struct({
  cancellations: Schema.Array(Cancellation).pipe(
    Schema.minItems(1),
    Schema.maxItems(maxBatch, {
      message: () => `Expected at most ${maxBatch} cancellations per request`
    })
  )
})

// Unknown fields are refused: a typo in a field name must not silently drop what it meant.
const decodeSingle = ParseResult.decodeUnknownEither(Cancellation, { onExcessProperty: "error" })
const decodeBatch = ParseResult.decodeUnknownEither(Batch, { onExcessProperty: "error" })

const error = (status: number, code: string, message: string) =>
  HttpServerResponse.unsafeJson({ error: { code, message } }, { status })

const sameToken = (given: string, expected: Redacted.Redacted<string>): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(Redacted.value(expected))
  return a.length === b.length && timingSafeEqual(a, b)
}

const authorized = (token: Redacted.Redacted<string>) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const header = request.headers.authorization ?? ""
    const match = /^Bearer (.+)$/.exec(header)
    return match !== null && sameToken(match[1]!, token)
  })

const outcomeJson = Outcome.toJson

/** Reads the body as text up to the limit: 413 past it (by Content-Length, or while reading). */
const readBody = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const length = Number(request.headers["content-length"] ?? Number.NaN)
  if (Number.isFinite(length) && length > maxBodyBytes) return Either.left(tooLarge())
  const text = yield* Effect.either(request.text)
  if (Either.isLeft(text)) return Either.left(tooLarge())
  if (Buffer.byteLength(text.right) > maxBodyBytes) return Either.left(tooLarge())
  return Either.right(text.right)
})

const tooLarge = () =>
  error(
    413,
    "body_too_large",
    `The body is larger than ${maxBodyBytes} bytes; send at most ${maxBatch} cancellations per request`
  )

const submit = Effect.gen(function* () {
  const store = yield* Store
  const body = yield* readBody
  if (Either.isLeft(body)) return body.left
  let json: unknown
  try {
    json = JSON.parse(body.right)
  } catch {
    return error(400, "invalid_json", "The body is not valid JSON")
  }
  const isBatch = typeof json === "object" && json !== null && "cancellations" in json
  const decoded = isBatch
    ? Either.map(decodeBatch(json), (batch) => batch.cancellations)
    : Either.map(decodeSingle(json), (one) => [one])
  if (Either.isLeft(decoded)) {
    const failure = DecodeFailure.fromParseError(decoded.left)
    return error(400, "invalid_request", DecodeFailure.format(failure))
  }
  // `cancel_<intent>` is the id derived from an intent (the API's own default, and what a CLI batch on the
  // same store takes for that intent's request): given to another intent, it would stand in for that one.
  const misused = decoded.right.findIndex(
    (c) => c.request_id?.startsWith("cancel_") && c.request_id !== CancelRequest.requestIdFor(c.payment_intent_id)
  )
  if (misused >= 0) {
    const c = decoded.right[misused]!
    return error(
      400,
      "invalid_request",
      `${isBatch ? `cancellations[${misused}].` : ""}request_id: ids starting with cancel_ are derived from the intent (${CancelRequest.requestIdFor(c.payment_intent_id)} for ${c.payment_intent_id}); choose another or leave it out`
    )
  }
  const requests = decoded.right.map((c) => ({
    ...CancelRequest.make(c.payment_intent_id, c.reason),
    ...(c.request_id === undefined ? {} : { requestId: c.request_id })
  }))
  // Two runners given the same new request id at once both find it absent and both insert: the second
  // insert violates the key. Submitting again then finds the stored request, as any resubmission does.
  const results = yield* store.submit(requests).pipe(Effect.retry({ times: 2, while: (e) => uniqueViolation(e) }))
  const conflict = results.find((r) => r._tag === "Conflict")
  if (conflict !== undefined && conflict._tag === "Conflict") {
    return error(
      409,
      "request_id_conflict",
      `request_id ${conflict.request.requestId} was already used for ${conflict.existingIntent}; nothing was accepted`
    )
  }
  // Start the new ones now; the sweeper starts any that a crash right here would leave behind.
  const retried = new Set<string>()
  for (const [i, result] of results.entries()) {
    if (result._tag === "New") {
      yield* Metric.increment(Metrics.requestsAccepted)
      yield* CancelWorkflow.execute(result.request, { discard: true })
    } else if (result._tag === "Existing" && !result.done) {
      yield* CancelWorkflow.execute(result.request, { discard: true })
    } else if (result._tag === "Existing" && decoded.right[i]?.retry_gave_up === true) {
      const again = yield* store.retryGaveUp(result.request.requestId)
      if (Option.isSome(again)) {
        retried.add(again.value.requestId)
        yield* CancelWorkflow.execute(again.value, { discard: true })
      }
    }
  }
  const items = results.map((r) => ({
    request_id: r.request.requestId,
    payment_intent_id: r.request.paymentIntentId,
    state: r._tag === "Existing" && r.done && !retried.has(r.request.requestId) ? "done" : "pending",
    resubmitted: r._tag === "Existing",
    ...(retried.has(r.request.requestId) ? { retried: true } : {})
  }))
  return HttpServerResponse.unsafeJson(
    isBatch ? { request_ids: items.map((i) => i.request_id), cancellations: items } : items[0],
    { status: 202 }
  )
})

const status = Effect.gen(function* () {
  const store = yield* Store
  const params = yield* HttpRouter.params
  const requestId = params.request_id ?? ""
  const found = yield* store.get(requestId)
  if (Option.isNone(found)) return error(404, "not_found", `No cancellation request ${requestId.slice(0, 200)}`)
  const { request, acceptedAt, outcome } = found.value
  return HttpServerResponse.unsafeJson({
    request_id: request.requestId,
    payment_intent_id: request.paymentIntentId,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    state: Option.isSome(outcome) ? "done" : "pending",
    accepted_at: acceptedAt,
    ...(Option.isSome(outcome)
      ? { outcome: { ...outcomeJson(outcome.value.outcome), recorded_at: outcome.value.recordedAt } }
      : {})
  })
})

const healthz = Effect.gen(function* () {
  const refused = yield* Effect.flatMap(Gate.Gate, (gate) => gate.rejection)
  if (Option.isSome(refused)) {
    // Nothing more goes to Flex from this process: every request stays pending until it restarts with a good key.
    return HttpServerResponse.unsafeJson(
      { status: "unavailable", engine: "up", flex: "key refused", reason: refused.value },
      { status: 503 }
    )
  }
  const sql = yield* SqlClient.SqlClient
  const ok = yield* sql`SELECT 1 AS ok`.pipe(
    Effect.timeout("2 seconds"),
    Effect.as(true),
    Effect.catchAllCause(() => Effect.succeed(false))
  )
  return ok
    ? HttpServerResponse.unsafeJson({ status: "ok", engine: "up", database: "up" })
    : HttpServerResponse.unsafeJson({ status: "unavailable", engine: "up", database: "unreachable" }, { status: 503 })
})

const metrics = Effect.map(Metrics.prometheus, (text) =>
  HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
)

const guarded = <E, R>(
  token: Redacted.Redacted<string>,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
) =>
  Effect.flatMap(authorized(token), (ok) =>
    ok ? handler : Effect.succeed(error(401, "unauthorized", "Missing or wrong bearer token (FLEX_WORKER_API_TOKEN)"))
  )

export const router = (token: Redacted.Redacted<string>) =>
  HttpRouter.empty.pipe(
    HttpRouter.post("/cancellations", guarded(token, submit)),
    HttpRouter.get("/cancellations/:request_id", guarded(token, status)),
    HttpRouter.get("/healthz", healthz),
    HttpRouter.get("/metrics", metrics)
  )

/** The SQLSTATE (PostgreSQL) or SQLite code of the driver error under a SqlError. */
const sqlCode = (e: unknown): unknown =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError"
    ? (e as { cause?: { code?: unknown } }).cause?.code
    : undefined

/** A unique or primary key violated: another process stored the same key first. */
const uniqueViolation = (e: unknown): boolean => {
  const code = sqlCode(e)
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE"
}

/** How long a client should wait before it submits again while the database is unreachable. */
export const retryAfterSeconds = 5

/** Node's socket errors: the connection to the database was refused, cut or never completed. */
const connectionErrnos = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN"
])

/**
 * PostgreSQL's SQLSTATEs for a server going away or not taking connections yet: 57P01-57P03 (admin or
 * crash shutdown, cannot connect now: a restart, a failover) and class 08 (connection exceptions).
 */
const connectionSqlState = (code: string): boolean =>
  code === "57P01" || code === "57P02" || code === "57P03" || code.startsWith("08")

/**
 * pg's own errors for a lost or never-made connection carry no code, only these messages (the pool's
 * connect timeout, a socket closed under a query).
 */
const connectionMessage =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Connection ended/i

/**
 * One link of an error's chain says the database cannot be reached now: a socket error, a PostgreSQL
 * connection-level SQLSTATE, the pool or connect timing out, or the store's own StoreUnavailable.
 * `SQLITE_BUSY` (another process holds the file's write lock past the busy timeout) passes too.
 * Nothing else does: a constraint left after the retries, a broken query, a full disk are faults a
 * retry cannot fix.
 */
const connectionLevel = (e: object): boolean => {
  if ((e as { _tag?: unknown })._tag === "StoreUnavailable") return true
  const code = (e as { code?: unknown }).code
  if (typeof code === "string") {
    if (connectionErrnos.has(code) || connectionSqlState(code) || code === "SQLITE_BUSY") return true
  }
  const message = (e as { message?: unknown }).message
  return typeof message === "string" && connectionMessage.test(message)
}

/**
 * Whether a failure is the database being unreachable (an outage, a failover, a connection cut): the
 * caller can retry it, so it is a 503, not a 500. Found anywhere in the cause, failure or defect, through
 * the errors' own `cause` chains (the engine wraps SqlError in its own).
 */
const databaseUnavailable = (cause: Cause.Cause<unknown>): boolean => {
  const unreachable = (e: unknown): boolean => {
    let current = e
    for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
      if (connectionLevel(current)) return true
      current = (current as { cause?: unknown }).cause
    }
    return false
  }
  return [...Cause.failures(cause), ...Cause.defects(cause)].some(unreachable)
}

/**
 * The app: a database that cannot be reached is a 503 with `Retry-After` (a request body is one
 * transaction, and resubmitting a request id never cancels twice, so retrying is always safe); every
 * other failure, a database fault a retry would not fix among them, is a 500 that says nothing about
 * internals (no SQL, no connection string), logged in full at error level.
 */
export const app = (token: Redacted.Redacted<string>) =>
  router(token).pipe(
    Effect.catchTag("RouteNotFound", () => Effect.succeed(error(404, "not_found", "No such route"))),
    Effect.catchAllCause((cause) =>
      databaseUnavailable(cause)
        ? Effect.zipRight(
            Effect.logWarning("HTTP API request failed: the database is unreachable", cause),
            Effect.succeed(
              error(
                503,
                "database_unavailable",
                `The worker's database is unreachable; retry in ${retryAfterSeconds} s (resubmitting a request id never cancels twice)`
              ).pipe(HttpServerResponse.setHeader("retry-after", String(retryAfterSeconds)))
            )
          )
        : Effect.zipRight(
            Effect.logError("HTTP API request failed", cause),
            Effect.succeed(error(500, "internal", "The worker could not handle this request; it was logged"))
          )
    )
  )

export type Requirements = Store | SqlClient.SqlClient | WorkflowEngine | Gate.Gate

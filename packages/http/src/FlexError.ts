/**
 * The errors of the Flex client: one tagged union, one class per failure a caller handles differently.
 *
 * Every error says which request failed (`method`, `path`), the HTTP `status` when there was a
 * response, and the `requestId` Flex (or a proxy) sent in `request-id` / `x-request-id`, for support
 * tickets. None carries the API key, a raw body or headers: errors end up in logs and in stored
 * outcomes. They are `Schema.TaggedError`s so they can be encoded and stored as data.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

const request = {
  /** `GET`, `POST`, … */
  method: Schema.String,
  /** The request path, e.g. `/v1/payment_intents/fpi_…/cancel` (never the query string or host). */
  path: Schema.String,
  /** The `request-id` or `x-request-id` response header, when there was one. */
  requestId: Schema.optional(Schema.String)
}

const response = {
  ...request,
  status: Schema.Number,
  /** Flex's error code from `{"error": {"code"}}`, when the body had one. */
  code: Schema.optional(Schema.String),
  /** Flex's error message from `{"error": {"message"}}`, when the body had one. */
  detail: Schema.optional(Schema.String)
}

const describe = (
  self: {
    readonly method: string
    readonly path: string
    readonly status?: number | undefined
    readonly code?: string | undefined
    readonly detail?: string | undefined
    readonly requestId?: string | undefined
  },
  what: string
): string => {
  const status = self.status === undefined ? "" : ` ${self.status}`
  const code = self.code === undefined ? "" : ` ${self.code}`
  const detail = self.detail === undefined ? "" : `: ${self.detail}`
  const id = self.requestId === undefined ? "" : ` (request ${self.requestId})`
  return `${what}: ${self.method} ${self.path} ->${status}${code}${detail}${id}`
}

/**
 * 401: the API key is missing, malformed or revoked. Never retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>("@flex/http/AuthenticationError")(
  "AuthenticationError",
  response
) {
  override get message(): string {
    return describe(this, "Flex rejected the API key")
  }
}

/**
 * 403: the key is valid but may not do this. Never retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class PermissionError extends Schema.TaggedError<PermissionError>("@flex/http/PermissionError")(
  "PermissionError",
  response
) {
  override get message(): string {
    return describe(this, "Flex refused the request")
  }
}

/**
 * 404: no such object. Never retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>("@flex/http/NotFoundError")(
  "NotFoundError",
  response
) {
  override get message(): string {
    return describe(this, "Not found")
  }
}

/**
 * 400 or 422: Flex refused the request as it stands (for a cancel, typically
 * `payment_intent_unexpected_state`). Also raised before any I/O for input the client can tell is bad,
 * such as a malformed payment intent ID (then `status` is 0). Never retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>("@flex/http/InvalidRequestError")(
  "InvalidRequestError",
  response
) {
  override get message(): string {
    return describe(this, "Invalid request")
  }
}

/**
 * 409: a concurrent request on the same object (or a reused idempotency key) got there first. Retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class ConflictError extends Schema.TaggedError<ConflictError>("@flex/http/ConflictError")(
  "ConflictError",
  response
) {
  override get message(): string {
    return describe(this, "Conflict")
  }
}

/**
 * 429: too many requests. `retryAfter` is the server's `Retry-After`, in milliseconds. Retried after
 * at least that long (capped at a minute).
 *
 * @category errors
 * @since 0.1.0
 */
export class RateLimitError extends Schema.TaggedError<RateLimitError>("@flex/http/RateLimitError")("RateLimitError", {
  ...response,
  retryAfter: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const after = this.retryAfter === undefined ? "" : `, retry after ${this.retryAfter} ms`
    return describe(this, "Rate limited") + after
  }
}

/**
 * A status ≥ 500, or any status the endpoint does not document (a proxy's HTML 502, a 3xx, a 418):
 * the request may or may not have been applied. Retried when the status is 408 or ≥ 500.
 *
 * @category errors
 * @since 0.1.0
 */
export class ServerError extends Schema.TaggedError<ServerError>("@flex/http/ServerError")("ServerError", response) {
  override get message(): string {
    return describe(this, "Flex server error")
  }
}

/**
 * No response: the connection was refused, reset or the host did not resolve. If the request was sent,
 * it may have been applied. Retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class ConnectionError extends Schema.TaggedError<ConnectionError>("@flex/http/ConnectionError")(
  "ConnectionError",
  {
    ...request,
    /** What happened, e.g. `ECONNREFUSED` or `socket hang up` (never a URL with credentials). */
    reason: Schema.String
  }
) {
  override get message(): string {
    return `Could not reach Flex: ${this.method} ${this.path}: ${this.reason}`
  }
}

/**
 * No complete response within the timeout. The request may have been applied. Retried.
 *
 * @category errors
 * @since 0.1.0
 */
export class TimeoutError extends Schema.TaggedError<TimeoutError>("@flex/http/TimeoutError")("TimeoutError", {
  ...request,
  /** The timeout that expired, in milliseconds. */
  timeout: Schema.Number
}) {
  override get message(): string {
    return `Flex did not answer within ${this.timeout} ms: ${this.method} ${this.path}`
  }
}

/**
 * A 2xx response whose body is not JSON or does not match the schema. `field` is the path of the
 * offending field (e.g. `payment_intent.status`), `""` when the body is empty, cut short or not JSON;
 * `detail` says what was wrong. A `GET` whose body is not JSON is retried (the bytes were lost, and a
 * read changes nothing); anything else is not: a `POST` may have acted, and a body that parses but does
 * not match would come the same again.
 *
 * @category errors
 * @since 0.1.0
 */
export class DecodeError extends Schema.TaggedError<DecodeError>("@flex/http/DecodeError")("DecodeError", {
  ...request,
  status: Schema.Number,
  field: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    const at = this.field === "" ? "" : ` at ${this.field}`
    return `Unexpected response body from ${this.method} ${this.path}${at}: ${this.detail}`
  }
}

/**
 * Every error the client can fail with.
 *
 * @category errors
 * @since 0.1.0
 */
export type FlexError =
  | AuthenticationError
  | PermissionError
  | NotFoundError
  | InvalidRequestError
  | ConflictError
  | RateLimitError
  | ServerError
  | ConnectionError
  | TimeoutError
  | DecodeError

/**
 * The schema of the union, for storing errors (e.g. in a worker's outcome table).
 *
 * @category schemas
 * @since 0.1.0
 */
export const FlexError = Schema.Union(
  AuthenticationError,
  PermissionError,
  NotFoundError,
  InvalidRequestError,
  ConflictError,
  RateLimitError,
  ServerError,
  ConnectionError,
  TimeoutError,
  DecodeError
)

/**
 * The tag of every error class.
 *
 * @category models
 * @since 0.1.0
 */
export const tags: ReadonlyArray<FlexError["_tag"]> = FlexError.members.map((member) => member._tag)

const tagSet = new Set<string>(tags)

/**
 * @category guards
 * @since 0.1.0
 */
export const isFlexError = (u: unknown): u is FlexError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tagSet.has(u._tag) && u instanceof Error

/**
 * The error types of the payment-intent endpoints: `CancelError` (every error), `RetrieveError` (no
 * `ConflictError`), `ListError` (no `ConflictError`, no `NotFoundError`). Each is derived from the one
 * runtime list of the endpoint's errors in the client's payment-intent resource, the list the client
 * also checks responses against (a status whose error is not listed becomes a `ServerError`).
 *
 * @category errors
 * @since 0.1.0
 */
export type {
  /**
   * The errors of `paymentIntents.cancel`: every client error.
   *
   * @category errors
   * @since 0.1.0
   */
  CancelError,
  /**
   * The errors of `paymentIntents.list` and `listAll`: no 404 and no 409.
   *
   * @category errors
   * @since 0.1.0
   */
  ListError,
  /**
   * The errors of `paymentIntents.retrieve`: no 409, a GET conflicts with nothing (an unexpected one is a
   * `ServerError`).
   *
   * @category errors
   * @since 0.1.0
   */
  RetrieveError
} from "./internal/resources/PaymentIntents.js"

/**
 * The HTTP status of an error, when there was a response.
 *
 * @category getters
 * @since 0.1.0
 */
export const status = (error: FlexError): number | undefined => ("status" in error ? error.status : undefined)

/**
 * One Flex API call: the request, the timeout, the single place where responses and transport
 * failures become {@link FlexError}s, and the retry loop around it all.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { DecodeFailure, Decoder, ErrorBody } from "@flex/domain"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import * as FlexError from "../FlexError.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as Timeout from "./timeout.js"

export type Tag = FlexError.FlexError["_tag"]

/**
 * What every call can fail with whatever its endpoint documents: no answer, no answer in time, an
 * answer that does not decode, and a server error (also what an undocumented status becomes).
 */
export type Always = "ConnectionError" | "TimeoutError" | "DecodeError" | "ServerError"

/** The statuses an endpoint can answer with, by the error each becomes (see `fromStatus`). */
export type StatusTag = Exclude<Tag, Always>

/** The error classes of {@link Always}. */
export type AlwaysError = Extract<FlexError.FlexError, { readonly _tag: Always }>

/**
 * The errors one endpoint can fail with: the one declaration that the response check (a status whose
 * error is not listed becomes a `ServerError`) and the endpoint's error type ({@link ErrorOf}) are both
 * made from.
 */
export interface Errors<T extends StatusTag> {
  /** The documented tags, then those of {@link Always}. */
  readonly tags: ReadonlyArray<T | Always>
  /** Whether an error made from a response status is one the endpoint documents. */
  readonly documents: (error: FlexError.FlexError) => error is Extract<FlexError.FlexError, { readonly _tag: T }>
}

/** The error type of an endpoint whose {@link Errors} list `T`. */
export type ErrorOf<T extends StatusTag> = Extract<FlexError.FlexError, { readonly _tag: T }> | AlwaysError

/** The error type of an endpoint, read from its {@link Errors} value. */
export type ErrorOfSet<S> = S extends Errors<infer T> ? ErrorOf<T> : never

const always: ReadonlyArray<Always> = ["ServerError", "ConnectionError", "TimeoutError", "DecodeError"]

/** The errors of an endpoint that documents the given statuses, by their error tags; see {@link Always}. */
export const errors = <const T extends StatusTag>(...documented: ReadonlyArray<T>): Errors<T> => {
  const tags: ReadonlyArray<T | Always> = [...documented, ...always]
  const set = new Set<Tag>(documented)
  return {
    tags,
    documents: (error): error is Extract<FlexError.FlexError, { readonly _tag: T }> => set.has(error._tag)
  }
}

export interface Call<A, T extends StatusTag> {
  readonly method: "GET" | "POST"
  readonly path: string
  /** The path template, e.g. `/v1/payment_intents/{id}/cancel`, for span names. */
  readonly route: string
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  readonly idempotencyKey?: string | undefined
  readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseIssue>
  /** The errors this endpoint documents; a status whose error is not listed becomes a `ServerError`. */
  readonly errors: Errors<T>
}

/**
 * Per-call options, for every endpoint.
 *
 * @category models
 * @since 0.1.0
 */
export interface RequestOptions {
  /** Retries for this call, overriding the client's; 0 turns them off. */
  readonly maxRetries?: number | undefined
  /** Timeout of each attempt of this call, overriding the client's. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Decode the object with a schema of your own instead of the domain's: a view of the fields you read
 * (so that a part you never read, an expanded object of a newer shape say, cannot make the response
 * undecodable), or a stricter one. The envelope (`{"payment_intent": …}`) is unwrapped as usual; a body
 * that does not match `schema` fails with a `DecodeError` naming the field.
 *
 * @example
 * ```ts
 * import { FlexClient } from "@flex/http"
 * import { Effect, Schema } from "effect"
 *
 * const Status = Schema.Struct({ payment_intent_id: Schema.String, status: Schema.String })
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* FlexClient.FlexClient
 *   const view = yield* client.paymentIntents.retrieve("fpi_01hzy3q4m5n6p7q8r9s0t1v2w3", { schema: Status })
 *   return view.status // a string, whatever the rest of the intent looks like
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface SchemaOptions<A> {
  readonly schema: Schema.Schema<A, any, never>
}

/** What a resource needs from the client: the settings of each call. */
export interface Client {
  /** The client's settings with the call's overrides. */
  readonly settings: (options: RequestOptions | undefined) => Settings
}

export interface Settings {
  readonly client: HttpClient.HttpClient
  /** The base URL, without a trailing slash: a call's path is appended to it. */
  readonly baseUrl: string
  /** The headers of every request: the key, `Accept` and `User-Agent`. */
  readonly headers: Headers.Headers
  /** Runs before every attempt, outside its timeout (a client-side rate limiter, say). */
  readonly beforeAttempt: Effect.Effect<void>
  /**
   * Cleans text taken from a response before it goes into an error: removes the API key (a proxy or a
   * misbehaving server may echo it) and cuts it to a sane length.
   */
  readonly scrub: (text: string) => string
  readonly timeout: Duration.Duration
  readonly retry: RetryPolicy.RetryPolicy
}

/** Effect's answers, with valid responses (nearly all of them) decoded by a function compiled from the schema. */
export const decoder = <A, I>(schema: Schema.Schema<A, I>) => Decoder.decodeUnknownEither(schema)

const decodeErrorBody = ParseResult.decodeUnknownOption(ErrorBody.ErrorBody)

const requestIdOf = (headers: Readonly<Record<string, string>>): string | undefined =>
  headers["request-id"] ?? headers["x-request-id"]

/** The only mapping from an HTTP status to an error class. */
const fromStatus = (
  status: number,
  fields: {
    readonly method: string
    readonly path: string
    readonly requestId?: string | undefined
    readonly code?: string | undefined
    readonly detail?: string | undefined
  },
  retryAfter: number | undefined
): FlexError.FlexError => {
  const props = { ...fields, status }
  switch (status) {
    case 400:
    case 422:
      return new FlexError.InvalidRequestError(props)
    case 401:
      return new FlexError.AuthenticationError(props)
    case 403:
      return new FlexError.PermissionError(props)
    case 404:
      return new FlexError.NotFoundError(props)
    case 409:
      return new FlexError.ConflictError(props)
    case 429:
      return new FlexError.RateLimitError({ ...props, retryAfter })
    default:
      return new FlexError.ServerError(props)
  }
}

const onFailureStatus = <A, T extends StatusTag>(
  settings: Settings,
  call: Call<A, T>,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<never, ErrorOf<T>> =>
  Effect.flatMap(
    // The body only matters for Flex's code and message; a body that cannot be read changes nothing.
    Effect.orElseSucceed(response.text, () => ""),
    (text) => {
      const body = decodeErrorBody(parseJson(text))
      const requestId = optionalScrub(settings, requestIdOf(response.headers))
      const fields = {
        method: call.method,
        path: call.path,
        requestId,
        code: optionalScrub(settings, body._tag === "Some" ? (body.value.error.code ?? undefined) : undefined),
        detail: optionalScrub(settings, body._tag === "Some" ? (body.value.error.message ?? undefined) : undefined)
      }
      const retryAfter = RetryPolicy.parseRetryAfter(response.headers["retry-after"], Date.now())
      const error = fromStatus(response.status, fields, retryAfter)
      // An error the endpoint does not document is an unexpected status: a ServerError that keeps it.
      return Effect.fail(
        call.errors.documents(error) ? error : new FlexError.ServerError({ ...fields, status: response.status })
      )
    }
  )

const parseFailed: unique symbol = Symbol("parseFailed")

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return parseFailed
  }
}

const optionalScrub = (settings: Settings, text: string | undefined) =>
  text === undefined ? undefined : settings.scrub(text)

const onSuccessStatus = <A, T extends StatusTag>(
  settings: Settings,
  call: Call<A, T>,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<A, FlexError.DecodeError | FlexError.ConnectionError> =>
  Effect.flatMap(
    Effect.mapError(response.text, (error) => connectionError(call, error)),
    (text) => {
      const fail = (field: string, detail: string) =>
        Effect.fail(
          new FlexError.DecodeError({
            method: call.method,
            path: call.path,
            requestId: optionalScrub(settings, requestIdOf(response.headers)),
            status: response.status,
            field: settings.scrub(field),
            detail: settings.scrub(detail)
          })
        )
      const json = parseJson(text)
      if (json === parseFailed) return fail("", text.trim() === "" ? "the body is empty" : "the body is not JSON")
      const decoded = call.decode(json)
      if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
      const failure = DecodeFailure.fromParseError(decoded.left)
      return fail(failure.path, failure.message)
    }
  )

/** The most specific description of a transport failure: a system error code when there is one. */
const transportReason = (error: unknown): string => {
  let current: unknown = error
  let message: string | undefined
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current === "object") {
      const code = (current as { code?: unknown }).code
      if (typeof code === "string" && /^[A-Z_]+$/.test(code)) return code
      const own = (current as { message?: unknown }).message
      if (typeof own === "string" && own !== "" && message === undefined) message = own
      current = (current as { cause?: unknown }).cause
    } else break
  }
  return message ?? "transport error"
}

const connectionError = (
  call: { readonly method: string; readonly path: string },
  error: HttpClientError.HttpClientError
): FlexError.ConnectionError =>
  new FlexError.ConnectionError({ method: call.method, path: call.path, reason: transportReason(error.cause ?? error) })

// The platform's client span records every request and response header not listed here. Only headers
// known to be harmless are recorded: a proxy that echoes a credential in a header must not put it
// into traces.
const recordedHeaders = [
  "accept",
  "content-length",
  "content-type",
  "date",
  "idempotency-key",
  "request-id",
  "retry-after",
  "user-agent",
  "x-request-id"
]
const redactedHeaders: ReadonlyArray<RegExp> = [new RegExp(`^(?!(?:${recordedHeaders.join("|")})$)`, "i")]

/** Effect's own tracer, the one in place when no other is installed: its spans are never exported. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * Whether anything reads this fiber's spans: the tracer is on and one other than Effect's own is
 * installed (an OpenTelemetry layer, a test's recording tracer).
 */
const recordsSpans = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.getFiberRef(FiberRef.currentTracerEnabled) && fiber.currentTracer !== nativeTracer

/**
 * `Effect.withSpan`, when a tracer records it (see `recordsSpans`). Otherwise the span would go nowhere
 * and still cost about 30 Effect operations (a mask, an exit hook and a change of context), a fifth of
 * a whole call (issue 14), so the effect runs alone.
 */
export const withSpan =
  (name: string, options: Tracer.SpanOptions) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) => (recordsSpans(fiber) ? Effect.withSpan(self, name, options) : self))

const attempt = <A, T extends StatusTag>(
  settings: Settings,
  call: Call<A, T>,
  n: number
): Effect.Effect<A, ErrorOf<T>> => {
  let headers = settings.headers
  if (call.idempotencyKey !== undefined) headers = Headers.set(headers, "idempotency-key", call.idempotencyKey)
  const request = HttpClientRequest.make(call.method)(settings.baseUrl + call.path, {
    headers,
    urlParams: call.urlParams
  })
  const timeout = Timeout.timeoutFail(
    settings.timeout,
    () =>
      new FlexError.TimeoutError({
        method: call.method,
        path: call.path,
        timeout: Duration.toMillis(settings.timeout)
      })
  )
  const onResponse = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, ErrorOf<T>> =>
    response.status >= 200 && response.status < 300
      ? onSuccessStatus(settings, call, response)
      : onFailureStatus(settings, call, response)
  const onTransportError = (error: HttpClientError.HttpClientError) => Effect.fail(connectionError(call, error))
  const handlers = { onFailure: onTransportError, onSuccess: onResponse }
  return Effect.withFiberRuntime((fiber) => {
    // The tracer off: no span anywhere, the platform's included, so no header is recorded either.
    if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) {
      return timeout(Effect.matchEffect(settings.client.execute(request), handlers))
    }
    // The platform's `http.client` span (made, and propagated in `traceparent`, whatever the tracer)
    // records headers: only the harmless ones by name.
    const exchange = Effect.locally(settings.client.execute(request), Headers.currentRedactedNames, redactedHeaders)
    // Effect's own tracer: this attempt's span would go nowhere (see `withSpan`).
    if (!recordsSpans(fiber)) return timeout(Effect.matchEffect(exchange, handlers))
    return exchange.pipe(
      Effect.matchEffect({
        onFailure: onTransportError,
        onSuccess: (response) =>
          Effect.zipRight(
            Effect.annotateCurrentSpan("http.response.status_code", response.status),
            onResponse(response)
          )
      }),
      timeout,
      Effect.tapError((error) =>
        Effect.annotateCurrentSpan({
          "flex.error": error._tag,
          ...("status" in error ? { "http.response.status_code": error.status } : {})
        })
      ),
      // Named after the route, not the path: an ID in a span name would make one span name per intent.
      Effect.withSpan(`Flex ${call.method} ${call.route}`, {
        kind: "client",
        // A captured stack trace would only ever point here, into this library, and costs an `Error` per
        // attempt.
        captureStackTrace: false,
        attributes: {
          "http.request.method": call.method,
          "http.route": call.route,
          "url.path": call.path,
          "flex.attempt": n
        }
      })
    )
  })
}

/** Runs a call with its timeout per attempt and the retry policy; the idempotency key is already fixed. */
export const run = <A, T extends StatusTag>(settings: Settings, call: Call<A, T>): Effect.Effect<A, ErrorOf<T>> =>
  RetryPolicy.retry(settings.retry, (n) => Effect.zipRight(settings.beforeAttempt, attempt(settings, call, n)))

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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as FlexError from "../FlexError.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as Timeout from "./timeout.js"

export type Tag = FlexError.FlexError["_tag"]

export interface Call<A> {
  readonly method: "GET" | "POST"
  readonly path: string
  /** The path template, e.g. `/v1/payment_intents/{id}/cancel`, for span names. */
  readonly route: string
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  readonly idempotencyKey?: string | undefined
  readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseIssue>
  /** The response errors this endpoint documents; any other status becomes a `ServerError`. */
  readonly expected: ReadonlySet<Tag>
}

export interface Settings {
  readonly client: HttpClient.HttpClient
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

const onFailureStatus = <A>(
  settings: Settings,
  call: Call<A>,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<never, FlexError.FlexError> =>
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
        call.expected.has(error._tag) ? error : new FlexError.ServerError({ ...fields, status: response.status })
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

const onSuccessStatus = <A>(
  settings: Settings,
  call: Call<A>,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<A, FlexError.FlexError> =>
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

const connectionError = <A>(call: Call<A>, error: HttpClientError.HttpClientError): FlexError.ConnectionError =>
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

const attempt = <A>(settings: Settings, call: Call<A>, n: number): Effect.Effect<A, FlexError.FlexError> => {
  let request = HttpClientRequest.make(call.method)(call.path)
  if (call.urlParams !== undefined) request = HttpClientRequest.setUrlParams(request, call.urlParams)
  if (call.idempotencyKey !== undefined)
    request = HttpClientRequest.setHeader(request, "idempotency-key", call.idempotencyKey)
  return settings.client.execute(request).pipe(
    Effect.locally(Headers.currentRedactedNames, redactedHeaders),
    Effect.mapError((error) => connectionError(call, error)),
    Effect.tap((response) => Effect.annotateCurrentSpan("http.response.status_code", response.status)),
    Effect.flatMap((response) =>
      response.status >= 200 && response.status < 300
        ? onSuccessStatus(settings, call, response)
        : onFailureStatus(settings, call, response)
    ),
    Timeout.timeoutFail(
      settings.timeout,
      () =>
        new FlexError.TimeoutError({
          method: call.method,
          path: call.path,
          timeout: Duration.toMillis(settings.timeout)
        })
    ),
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
}

/** Runs a call with its timeout per attempt and the retry policy; the idempotency key is already fixed. */
export const run = <A>(settings: Settings, call: Call<A>): Effect.Effect<A, FlexError.FlexError> =>
  RetryPolicy.retry(settings.retry, (n) => Effect.zipRight(settings.beforeAttempt, attempt(settings, call, n)))

/**
 * The Flex API client as an Effect service.
 *
 * `FlexClient` needs an `HttpClient` (`NodeHttpClient.layerUndici` in services, `FetchHttpClient.layer`
 * anywhere `fetch` exists) and an API key. Resources are namespaces, as in stripe-node:
 * `client.paymentIntents.cancel(id)`. Every method fails with a typed {@link FlexError} listing only
 * what that endpoint can fail with, retries what is safe to retry under the {@link RetryPolicy}, and
 * keeps the key `Redacted` from configuration to the wire.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { DecodeFailure, Decoder, Ids, PaymentIntent } from "@flex/domain"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { pipe } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as FlexError from "./FlexError.js"
import * as Request from "./internal/request.js"
import { version } from "./internal/version.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * Per-call options.
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
 * @category models
 * @since 0.1.0
 */
export interface CancelOptions extends RequestOptions {
  /**
   * The `Idempotency-Key` to send. Without one, the client generates a key per call, sent unchanged on
   * every retry of that call. Pass your own, derived from something durable, to make a cancel safe to
   * repeat across process restarts.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * Decode the payment intent with a schema of your own instead of the domain's `PaymentIntent`: a view
 * of the fields you read (so that a part you never read, an expanded object of a newer shape say,
 * cannot make the response undecodable), or a stricter one. The envelope (`{"payment_intent": …}`)
 * is unwrapped as usual; a body that does not match `schema` fails with a `DecodeError` naming the
 * field.
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
 * @since 0.2.0
 */
export interface SchemaOptions<A> {
  readonly schema: Schema.Schema<A, any, never>
}

/**
 * Query parameters of `GET /v1/payment_intents`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListParams {
  /** Page size, 1 to 100 (Flex's default is 10). */
  readonly limit?: number | undefined
  /** A payment intent ID: the page after it (older intents). */
  readonly starting_after?: string | undefined
  /** A payment intent ID: the page before it (newer intents). */
  readonly ending_before?: string | undefined
  /** Only this customer's intents. */
  readonly customer?: string | undefined
  /** Only intents of this checkout session. */
  readonly checkout_session?: string | undefined
  /** Expand references, e.g. `"customer"`. */
  readonly expand?: string | undefined
  /** Only intents created in the last N days. */
  readonly interval?: number | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntents {
  /**
   * `POST /v1/payment_intents/{id}/cancel`: cancels an intent and releases any authorized amount. With
   * `schema`, the intent is decoded with it (see {@link SchemaOptions}).
   */
  readonly cancel: {
    <A>(id: string, options: CancelOptions & SchemaOptions<A>): Effect.Effect<A, FlexError.CancelError>
    (id: string, options?: CancelOptions): Effect.Effect<PaymentIntent.PaymentIntent, FlexError.CancelError>
  }
  /** `GET /v1/payment_intents/{id}`. With `schema`, the intent is decoded with it (see {@link SchemaOptions}). */
  readonly retrieve: {
    <A>(id: string, options: RequestOptions & SchemaOptions<A>): Effect.Effect<A, FlexError.RetrieveError>
    (id: string, options?: RequestOptions): Effect.Effect<PaymentIntent.PaymentIntent, FlexError.RetrieveError>
  }
  /** `GET /v1/payment_intents`: one page, newest first. */
  readonly list: (
    params?: ListParams,
    options?: RequestOptions
  ) => Effect.Effect<ReadonlyArray<PaymentIntent.PaymentIntent>, FlexError.ListError>
  /**
   * Every intent matching `params`, page after page through `starting_after` (pages of `limit`,
   * default 100). Flex sends no `has_more`, so a page shorter than the limit is the last.
   */
  readonly listAll: (
    params?: Omit<ListParams, "starting_after" | "ending_before">,
    options?: RequestOptions
  ) => Stream.Stream<PaymentIntent.PaymentIntent, FlexError.ListError>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Service {
  readonly paymentIntents: PaymentIntents
}

/**
 * @category tags
 * @since 0.1.0
 */
export class FlexClient extends Context.Tag("@flex/http/FlexClient")<FlexClient, Service>() {}

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** A Flex secret key, `fsk_test_…` or `fsk_…`. */
  readonly apiKey: Redacted.Redacted<string>
  /** Defaults to `https://api.withflex.com`. */
  readonly baseUrl?: string | URL | undefined
  /** Timeout of each attempt. Defaults to 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retries after the first attempt. Defaults to 2. */
  readonly maxRetries?: number | undefined
  /** Backoff settings beyond the retry count. */
  readonly retryPolicy?: Partial<RetryPolicy.RetryPolicy> | undefined
  /**
   * Runs before every attempt of every call, retries included, outside the attempt's timeout: the place
   * for a client-side rate limiter that must count every request sent.
   */
  readonly beforeAttempt?: Effect.Effect<void> | undefined
  /** A last change to the underlying `HttpClient` (a proxy, extra headers, a tracer setting). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaultBaseUrl = "https://api.withflex.com"

/**
 * @category constants
 * @since 0.1.0
 */
export const userAgent = `flex-ts/${version}`

const decodeEnvelope = Request.decoder(PaymentIntent.Envelope)
type EnvelopeDecoder = (u: unknown) => Either.Either<{ readonly payment_intent: unknown }, ParseResult.ParseIssue>
/** One decoder per caller schema, compiled once (callers pass the same schema object on every call). */
const viewDecoders = new WeakMap<Schema.Schema.Any, EnvelopeDecoder>()
const envelopeDecoder = (schema: Schema.Schema<any, any, never> | undefined): EnvelopeDecoder => {
  if (schema === undefined) return decodeEnvelope
  let decoder = viewDecoders.get(schema)
  if (decoder === undefined) {
    decoder = Request.decoder(Schema.Struct({ payment_intent: schema }))
    viewDecoders.set(schema, decoder)
  }
  return decoder
}
const decodeList = Request.decoder(PaymentIntent.ListEnvelope)
const decodeId = Decoder.decodeUnknownEither(Ids.PaymentIntentId)

// A captured stack trace would only ever point into this module, and costs an `Error` per call.
const spanOptions = { captureStackTrace: false } as const

const cancelErrors = new Set<Request.Tag>(FlexError.tags)
const retrieveErrors = new Set<Request.Tag>([...cancelErrors].filter((tag) => tag !== "ConflictError"))
const listErrors = new Set<Request.Tag>([...retrieveErrors].filter((tag) => tag !== "NotFoundError"))

// A key is a header value: printable ASCII, at most 255 characters as Stripe allows.
const validIdempotencyKey = /^[\x21-\x7e]{1,255}$/

/** IDs go into the path: check them first, so no malformed ID (or `../`) ever reaches the wire. */
const checkId = (method: "GET" | "POST", route: string, id: string) => {
  const decoded = decodeId(id)
  if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
  const shown = encodeURIComponent(id.length > 40 ? `${id.slice(0, 40)}...` : id)
  return Effect.fail(
    new FlexError.InvalidRequestError({
      method,
      path: route.replace("{id}", shown),
      status: 0,
      code: "invalid_payment_intent_id",
      detail: DecodeFailure.fromParseError(decoded.left).message
    })
  )
}

/**
 * Builds the service from an `HttpClient` in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const baseUrl = new URL(options.baseUrl ?? defaultBaseUrl)
    const base = baseUrl.href.replace(/\/+$/, "")
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        pipe(
          request,
          HttpClientRequest.prependUrl(base),
          HttpClientRequest.bearerToken(options.apiKey),
          HttpClientRequest.acceptJson,
          HttpClientRequest.setHeader("user-agent", userAgent)
        )
      ),
      options.transformClient ?? ((c) => c)
    )
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
    const policy = RetryPolicy.make({ ...options.retryPolicy, maxRetries: options.maxRetries ?? 2 })

    const key = Redacted.value(options.apiKey)
    const scrub = (text: string) => {
      const clean = key === "" ? text : text.split(key).join("<redacted>")
      return clean.length > 500 ? `${clean.slice(0, 497)}...` : clean
    }
    const beforeAttempt = options.beforeAttempt ?? Effect.void
    const settingsFor = (call: RequestOptions | undefined): Request.Settings => ({
      client,
      beforeAttempt,
      scrub,
      timeout: call?.timeout === undefined ? timeout : Duration.decode(call.timeout),
      retry: call?.maxRetries === undefined ? policy : { ...policy, maxRetries: call.maxRetries }
    })

    const cancel = (id: string, call?: CancelOptions & Partial<SchemaOptions<unknown>>) =>
      Effect.flatMap(checkId("POST", "/v1/payment_intents/{id}/cancel", id), (intentId) => {
        const path = `/v1/payment_intents/${intentId}/cancel`
        const given = call?.idempotencyKey
        if (given !== undefined && !validIdempotencyKey.test(given)) {
          return Effect.fail(
            new FlexError.InvalidRequestError({
              method: "POST",
              path,
              status: 0,
              code: "invalid_idempotency_key",
              detail: "an idempotency key is 1 to 255 printable ASCII characters without spaces"
            })
          )
        }
        // Fixed here, outside the retried attempt, so every attempt of this call sends the same key.
        const idempotencyKey = given ?? `flex-ts-retry-${crypto.randomUUID()}`
        return Effect.map(
          Request.run(settingsFor(call), {
            method: "POST",
            path,
            route: "/v1/payment_intents/{id}/cancel",
            idempotencyKey,
            decode: envelopeDecoder(call?.schema),
            expected: cancelErrors
          }),
          (envelope) => envelope.payment_intent
        )
      }).pipe(Effect.withSpan("FlexClient.paymentIntents.cancel", spanOptions))

    const retrieve = (id: string, call?: RequestOptions & Partial<SchemaOptions<unknown>>) =>
      Effect.flatMap(checkId("GET", "/v1/payment_intents/{id}", id), (intentId) =>
        Effect.map(
          Request.run(settingsFor(call), {
            method: "GET",
            path: `/v1/payment_intents/${intentId}`,
            route: "/v1/payment_intents/{id}",
            decode: envelopeDecoder(call?.schema),
            expected: retrieveErrors
          }),
          (envelope) => envelope.payment_intent
        )
      ).pipe(Effect.withSpan("FlexClient.paymentIntents.retrieve", spanOptions)) as Effect.Effect<
        unknown,
        FlexError.RetrieveError
      >

    const list: PaymentIntents["list"] = (params = {}, call) => {
      const urlParams: Record<string, string> = {}
      for (const [key, value] of Object.entries(params)) {
        if (value !== undefined) urlParams[key] = String(value)
      }
      return Effect.map(
        Request.run(settingsFor(call), {
          method: "GET",
          path: "/v1/payment_intents",
          route: "/v1/payment_intents",
          urlParams,
          decode: decodeList,
          expected: listErrors
        }),
        (envelope) => envelope.payment_intents
      ).pipe(Effect.withSpan("FlexClient.paymentIntents.list", spanOptions)) as Effect.Effect<
        ReadonlyArray<PaymentIntent.PaymentIntent>,
        FlexError.ListError
      >
    }

    const listAll: PaymentIntents["listAll"] = (params = {}, call) => {
      const limit = params.limit ?? 100
      return Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
        Effect.map(list({ ...params, limit, starting_after: cursor }, call), (page) => {
          const last = page[page.length - 1]
          const next = page.length < limit || last === undefined ? Option.none() : Option.some(last.payment_intent_id)
          return [Chunk.unsafeFromArray(page as Array<PaymentIntent.PaymentIntent>), next] as const
        })
      )
    }

    // One implementation; the overloads only say what `schema` decodes to.
    return {
      paymentIntents: {
        cancel: cancel as PaymentIntents["cancel"],
        retrieve: retrieve as PaymentIntents["retrieve"],
        list,
        listAll
      }
    }
  })

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<FlexClient, never, HttpClient.HttpClient> =>
  Layer.effect(FlexClient, make(options))

/**
 * The client's settings from the environment: `FLEX_API_KEY` (required), `FLEX_BASE_URL`,
 * `FLEX_TIMEOUT` (seconds, or a duration such as `500 millis`), `FLEX_MAX_RETRIES`.
 *
 * @category config
 * @since 0.1.0
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted("FLEX_API_KEY").pipe(
    Config.validate({
      // The message names the variable and the expected form, never the value.
      message: "FLEX_API_KEY must be a Flex secret key: fsk_test_… or fsk_… with no spaces",
      validation: (key) => /^fsk_[A-Za-z0-9_\-+/=.]+$/.test(Redacted.value(key))
    })
  ),
  baseUrl: Config.string("FLEX_BASE_URL").pipe(
    Config.validate({
      message: "FLEX_BASE_URL must be an http(s) URL such as https://api.withflex.com",
      validation: (url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol)
    }),
    Config.withDefault(defaultBaseUrl)
  ),
  timeout: Config.string("FLEX_TIMEOUT").pipe(
    Config.mapOrFail((raw) => {
      const seconds = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : undefined
      const duration = seconds !== undefined ? Option.some(Duration.seconds(seconds)) : Duration.decodeUnknown(raw)
      return Option.isSome(duration) && Duration.toMillis(duration.value) > 0
        ? Either.right(duration.value)
        : Either.left(
            ConfigError.InvalidData(["FLEX_TIMEOUT"], "FLEX_TIMEOUT must be seconds (30) or a duration (500 millis)")
          )
    }),
    Config.withDefault(Duration.seconds(30))
  ),
  maxRetries: Config.integer("FLEX_MAX_RETRIES").pipe(
    Config.validate({ message: "FLEX_MAX_RETRIES must be 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(2)
  )
})

/**
 * The client configured from the environment (see {@link config}), or from a `Config` of your own.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<FlexClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(FlexClient, Effect.flatMap(options, make))

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
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Request from "./internal/request.js"
import * as PaymentIntentsResource from "./internal/resources/PaymentIntents.js"
import { version } from "./internal/version.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * Per-call options: `maxRetries` and `timeout` override the client's for one call.
 *
 * @category models
 * @since 0.1.0
 */
export type RequestOptions = Request.RequestOptions

/**
 * Options of `paymentIntents.cancel`: the per-call options and an `idempotencyKey`.
 *
 * @category models
 * @since 0.1.0
 */
export type CancelOptions = PaymentIntentsResource.CancelOptions

/**
 * Decode the object with a schema of your own instead of the domain's (see its `schema` field).
 *
 * @category models
 * @since 0.1.0
 */
export type SchemaOptions<A> = Request.SchemaOptions<A>

/**
 * Query parameters of `GET /v1/payment_intents`.
 *
 * @category models
 * @since 0.1.0
 */
export type ListParams = PaymentIntentsResource.ListParams

/**
 * The payment-intent endpoints: `cancel`, `retrieve`, `list`, `listAll`.
 *
 * @category models
 * @since 0.1.0
 */
export type PaymentIntents = PaymentIntentsResource.PaymentIntents

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
    const http = (options.transformClient ?? ((c) => c))(yield* HttpClient.HttpClient)
    // The same on every request, so made once: each request adds only its idempotency key.
    const headers = Headers.fromInput({
      authorization: `Bearer ${Redacted.value(options.apiKey)}`,
      accept: "application/json",
      "user-agent": userAgent
    })
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
    const policy = RetryPolicy.make({ ...options.retryPolicy, maxRetries: options.maxRetries ?? 2 })

    const key = Redacted.value(options.apiKey)
    const scrub = (text: string) => {
      const clean = key === "" ? text : text.split(key).join("<redacted>")
      return clean.length > 500 ? `${clean.slice(0, 497)}...` : clean
    }
    const beforeAttempt = options.beforeAttempt ?? Effect.void
    const defaults: Request.Settings = {
      client: http,
      baseUrl: base,
      headers,
      beforeAttempt,
      scrub,
      timeout,
      retry: policy
    }
    // A call that overrides only the retries (as a caller that does its own retrying passes
    // `maxRetries: 0` on every call) gets settings made once per count.
    const byRetries = new Map<number, Request.Settings>()
    const client: Request.Client = {
      settings: (call) => {
        if (call?.timeout === undefined) {
          if (call?.maxRetries === undefined) return defaults
          let settings = byRetries.get(call.maxRetries)
          if (settings === undefined) {
            settings = { ...defaults, retry: { ...policy, maxRetries: call.maxRetries } }
            if (byRetries.size < 16) byRetries.set(call.maxRetries, settings)
          }
          return settings
        }
        return {
          ...defaults,
          timeout: Duration.decode(call.timeout),
          retry: call.maxRetries === undefined ? policy : { ...policy, maxRetries: call.maxRetries }
        }
      }
    }

    return { paymentIntents: PaymentIntentsResource.make(client) }
  })

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<FlexClient, never, HttpClient.HttpClient> =>
  Layer.effect(FlexClient, make(options))

/**
 * Where a sandbox listens and a key it accepts, as `@flex/sandbox` gives them (`sandbox.clientOptions`).
 *
 * @category models
 * @since 0.1.0
 */
export interface SandboxTarget {
  readonly baseUrl: string
  readonly apiKey: string
}

/**
 * A client pointed at a `@flex/sandbox` (or any server that speaks Flex's API), from the sandbox's
 * `clientOptions` or an effect that gives them (read from the `Sandbox` service, say), with the
 * fetch-based `HttpClient` included: one line in a test. `options` sets anything else (`maxRetries`,
 * `timeout`, `retryPolicy`, …).
 *
 * @example
 * ```ts
 * import { FlexClient } from "@flex/http"
 * import { Sandbox } from "@flex/sandbox"
 * import { Effect, Layer } from "effect"
 *
 * // The sandbox and a client of it, for the lifetime of the layer:
 * const TestLayer = FlexClient.layerSandbox(Effect.map(Sandbox.Sandbox, (sandbox) => sandbox.clientOptions)).pipe(
 *   Layer.provideMerge(Sandbox.layer({ seed: 7 }))
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerSandbox = <E = never, R = never>(
  sandbox: SandboxTarget | Effect.Effect<SandboxTarget, E, R>,
  options: Partial<Omit<Options, "apiKey" | "baseUrl">> = {}
): Layer.Layer<FlexClient, E, R> => {
  const target: Effect.Effect<SandboxTarget, E, R> = Effect.isEffect(sandbox) ? sandbox : Effect.succeed(sandbox)
  return Layer.effect(
    FlexClient,
    Effect.flatMap(target, ({ apiKey, baseUrl }) => make({ ...options, apiKey: Redacted.make(apiKey), baseUrl }))
  ).pipe(Layer.provide(FetchHttpClient.layer))
}

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

/**
 * The Flex client for services without Effect: `new Flex({ apiKey })`, then
 * `await flex.paymentIntents.cancel(id)`, as with stripe-node. It is the Effect client
 * ({@link FlexClient}) run on a managed runtime: the same requests, retries, idempotency keys, timeouts
 * and redaction, one implementation behind two faces.
 *
 * Failures reject with the {@link FlexError} classes themselves (`error instanceof FlexError.NotFoundError`;
 * `status`, `code`, `detail`, `requestId` readable), never with a wrapper. Payment intents come back in
 * their wire form, `PaymentIntent.Json` of `@flex/domain`: the JSON Flex sends, checked, with strings for
 * IDs and timestamps and the client secret in clear. Nothing here needs an import from Effect.
 *
 * @example
 * ```ts
 * import { Flex, FlexError } from "@flex/http/promise"
 *
 * const flex = new Flex({ apiKey: process.env.FLEX_API_KEY!, timeout: 10_000 })
 * try {
 *   const intent = await flex.paymentIntents.cancel("fpi_01J9M9S346Q3D25VT4F5V37E3S", {
 *     idempotencyKey: "cancel-order-WC-88231"
 *   })
 *   console.log(intent.status) // "canceled"
 * } catch (error) {
 *   if (error instanceof FlexError.NotFoundError) console.log("no such intent", error.requestId)
 *   else throw error
 * } finally {
 *   await flex.close()
 * }
 * ```
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as PaymentIntent from "@flex/domain/PaymentIntent"
import * as Webhook from "@flex/domain/Webhook"
import * as WebhookEvent from "@flex/domain/WebhookEvent"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as FlexClient from "./FlexClient.js"
import type * as FlexErrors from "./FlexError.js"

/**
 * The webhook errors, to catch with `instanceof` (the classes of `@flex/domain`'s `WebhookError`):
 * `SignatureMismatchError`, `TimestampToleranceError`, `MissingHeaderError`, `InvalidHeaderError`,
 * `InvalidPayloadError`, `InvalidSecretError`.
 *
 * @category errors
 * @since 0.1.0
 */
export * as WebhookError from "@flex/domain/WebhookError"
/**
 * The error classes, to catch with `instanceof` (the same classes `@flex/http` exports).
 *
 * @category errors
 * @since 0.1.0
 */
export * as FlexError from "./FlexError.js"

/**
 * @category models
 * @since 0.1.0
 */
export interface FlexOptions {
  /** A Flex secret key, `fsk_test_…` or `fsk_…`. It never appears in an error, a log line or a span. */
  readonly apiKey: string
  /** Defaults to `https://api.withflex.com`; a `@flex/sandbox` gives its own (`sandbox.clientOptions`). */
  readonly baseUrl?: string | URL | undefined
  /** Timeout of each attempt, in milliseconds. Defaults to 30,000. */
  readonly timeout?: number | undefined
  /** Retries after the first attempt (connection errors, timeouts, 408, 409, 429, 5xx). Defaults to 2. */
  readonly maxRetries?: number | undefined
  /** The `fetch` to send requests with. Defaults to the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch | undefined
}

/**
 * Per-call options.
 *
 * @category models
 * @since 0.1.0
 */
export interface RequestOptions {
  /** Retries for this call, overriding the client's; 0 turns them off. */
  readonly maxRetries?: number | undefined
  /** Timeout of each attempt of this call, in milliseconds, overriding the client's. */
  readonly timeout?: number | undefined
  /** Aborts the call (its current attempt and any retry still to come); it then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface CancelOptions extends RequestOptions {
  /**
   * The `Idempotency-Key` to send. Without one, the client generates a key per call, sent unchanged on
   * every retry of that call. Pass your own, derived from something durable (an order ID, a stored
   * request), to make a cancel safe to repeat after a crash.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * Query parameters of `GET /v1/payment_intents` (`limit`, `starting_after`, `ending_before`, `customer`,
 * `checkout_session`, `expand`, `interval`).
 *
 * @category models
 * @since 0.1.0
 */
export type ListParams = FlexClient.ListParams

/**
 * The payment-intent endpoints.
 *
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntents {
  /**
   * `POST /v1/payment_intents/{id}/cancel`: cancels an intent and releases any authorized amount.
   * Rejects with any {@link FlexErrors.CancelError}.
   */
  readonly cancel: (id: string, options?: CancelOptions) => Promise<PaymentIntent.Json>
  /** `GET /v1/payment_intents/{id}`. Rejects with any {@link FlexErrors.RetrieveError}. */
  readonly retrieve: (id: string, options?: RequestOptions) => Promise<PaymentIntent.Json>
  /** `GET /v1/payment_intents`: one page, newest first. Rejects with any {@link FlexErrors.ListError}. */
  readonly list: (params?: ListParams, options?: RequestOptions) => Promise<ReadonlyArray<PaymentIntent.Json>>
  /**
   * Every intent matching `params`, page after page (pages of `limit`, default 100), for
   * `for await (const intent of flex.paymentIntents.listAll())`. A page is fetched when the loop
   * needs it; leaving the loop early stops there. A failure rejects the loop's next step with the
   * {@link FlexErrors.ListError}.
   */
  readonly listAll: (
    params?: Omit<ListParams, "starting_after" | "ending_before">,
    options?: RequestOptions
  ) => AsyncIterableIterator<PaymentIntent.Json>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface WebhookOptions {
  /** How far the signed timestamp may be from now, in milliseconds, either way. Defaults to 300,000 (5 minutes). */
  readonly tolerance?: number | undefined
}

/**
 * Webhook verification, as stripe-node's `stripe.webhooks`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Webhooks {
  /**
   * Verifies a delivery's signature and decodes its event, in its wire form (`WebhookEvent.Json`: `object`
   * wrapped under the resource's name, an unknown event type kept as it came). `body` is the raw body,
   * exactly as received (a string, a `Buffer` / `Uint8Array`, or the `ArrayBuffer` of a Fetch
   * `request.arrayBuffer()`): parsed and serialised again it fails.
   * `headers` a Fetch `Headers` or Node's `req.headers`; `secret` the endpoint's signing secret, or several
   * during a rotation. Rejects with a {@link WebhookError} class.
   */
  readonly constructEvent: (
    body: string | Uint8Array | ArrayBuffer,
    headers: Webhook.HeadersInput,
    secret: string | ReadonlyArray<string>,
    options?: WebhookOptions
  ) => Promise<WebhookEvent.Json>
}

const encodeEvent = Schema.encodeSync(WebhookEvent.WebhookEvent)

// A `Uint8Array` (a `Buffer` included) from any realm: under Jest or in a `vm` context a server's `Buffer`
// is another realm's, and `instanceof Uint8Array` is false for it. (As `@flex/domain`'s `Webhook` checks.)
const isBytes = (u: unknown): u is Uint8Array =>
  ArrayBuffer.isView(u) && Object.prototype.toString.call(u) === "[object Uint8Array]"

/**
 * Webhook verification without a client (it needs no API key): the same object as `flex.webhooks`.
 *
 * @example
 * ```ts
 * import { webhooks, WebhookError } from "@flex/http/promise"
 *
 * declare const rawBody: Buffer // e.g. express.raw({ type: "application/json" })
 * declare const headers: Record<string, string | string[] | undefined> // req.headers
 *
 * try {
 *   const event = await webhooks.constructEvent(rawBody, headers, process.env.FLEX_WEBHOOK_SECRET!)
 *   if (event.event_type === "payment_intent.succeeded") console.log(event.event_id)
 * } catch (error) {
 *   if (error instanceof WebhookError.SignatureMismatchError) console.log("not from Flex") // answer 400
 *   else throw error
 * }
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const webhooks: Webhooks = {
  constructEvent: (body, headers, secret, options) => {
    const tolerance = options?.tolerance
    if (tolerance !== undefined && !(typeof tolerance === "number" && tolerance >= 0)) {
      return Promise.reject(
        new TypeError(`Flex: tolerance must be a number of milliseconds, 0 or more, got ${String(tolerance)}`)
      )
    }
    if (typeof body !== "string" && !isBytes(body) && Object.prototype.toString.call(body) !== "[object ArrayBuffer]") {
      // The usual mistake: a body already parsed by a JSON middleware has lost the bytes that were signed.
      return Promise.reject(
        new TypeError(
          'Flex: the webhook body must be the raw request body, a string, a Buffer/Uint8Array or an ArrayBuffer as received, not parsed JSON (with Express: express.raw({ type: "application/json" }))'
        )
      )
    }
    const secrets = Array.isArray(secret) ? secret.map((s) => Redacted.make(s)) : Redacted.make(secret as string)
    return Effect.runPromiseExit(
      Effect.map(
        Webhook.constructEvent(body, headers, secrets, {
          tolerance: tolerance === undefined ? undefined : Duration.millis(tolerance)
        }),
        encodeEvent
      )
    ).then((exit) => settle(exit, undefined))
  }
}

const encode = Schema.encodeSync(PaymentIntent.PaymentIntent)
const toJson = (intent: PaymentIntent.PaymentIntent): PaymentIntent.Json => encode(intent)

const effectOptions = (options: RequestOptions | undefined): FlexClient.RequestOptions => ({
  maxRetries: options?.maxRetries,
  timeout: options?.timeout === undefined ? undefined : Duration.millis(options.timeout)
})

const aborted = (signal: AbortSignal | undefined): unknown =>
  signal?.reason ?? new DOMException("This operation was aborted", "AbortError")

/** The failure of an exit as callers catch it: the error itself, the signal's reason, or the defect. */
const settle = <A>(exit: Exit.Exit<A, unknown>, signal: AbortSignal | undefined): A => {
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) throw failure.value
  if (Cause.isInterruptedOnly(exit.cause)) throw aborted(signal)
  throw Cause.squash(exit.cause)
}

/**
 * A Flex API client. Construct one per process and share it; `close()` releases it.
 *
 * @category constructors
 * @since 0.1.0
 */
export class Flex {
  /**
   * `cancel`, `retrieve`, `list`, `listAll`.
   *
   * @since 0.1.0
   */
  readonly paymentIntents: PaymentIntents

  /**
   * `constructEvent`: verifies a webhook delivery and decodes its event (see {@link Webhooks}). Works on a
   * closed client too: it makes no request.
   *
   * @since 0.1.0
   */
  readonly webhooks: Webhooks = webhooks

  /** @internal */
  readonly #runtime: ManagedRuntime.ManagedRuntime<FlexClient.FlexClient, never>
  /** @internal */
  #closed = false

  constructor(options: FlexOptions) {
    if (typeof options?.apiKey !== "string" || options.apiKey.trim() === "") {
      throw new TypeError("Flex: apiKey must be a Flex secret key (fsk_test_… or fsk_…)")
    }
    const baseUrl = new URL(options.baseUrl ?? FlexClient.defaultBaseUrl)
    if (options.timeout !== undefined && !(Number.isFinite(options.timeout) && options.timeout > 0)) {
      throw new TypeError(`Flex: timeout must be a positive number of milliseconds, got ${options.timeout}`)
    }
    if (options.maxRetries !== undefined && !(Number.isInteger(options.maxRetries) && options.maxRetries >= 0)) {
      throw new TypeError(`Flex: maxRetries must be a whole number, 0 or more, got ${options.maxRetries}`)
    }
    const http: Layer.Layer<HttpClient.HttpClient> =
      options.fetch === undefined
        ? FetchHttpClient.layer
        : FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.Fetch, options.fetch)))
    this.#runtime = ManagedRuntime.make(
      FlexClient.layer({
        apiKey: Redacted.make(options.apiKey),
        baseUrl,
        timeout: options.timeout === undefined ? undefined : Duration.millis(options.timeout),
        maxRetries: options.maxRetries
      }).pipe(Layer.provide(http))
    )

    const call = <A, E>(
      use: (client: FlexClient.Service) => Effect.Effect<A, E>,
      signal: AbortSignal | undefined
    ): Promise<A> => {
      if (this.#closed) return Promise.reject(new Error("Flex: this client is closed"))
      if (signal?.aborted) return Promise.reject(aborted(signal))
      return this.#runtime
        .runPromiseExit(Effect.flatMap(FlexClient.FlexClient, use), signal === undefined ? undefined : { signal })
        .then((exit) => settle(exit, signal))
    }

    const runtime = this.#runtime
    const isClosed = () => this.#closed
    this.paymentIntents = {
      cancel: (id, options) =>
        call(
          (client) =>
            Effect.map(
              client.paymentIntents.cancel(id, { ...effectOptions(options), idempotencyKey: options?.idempotencyKey }),
              toJson
            ),
          options?.signal
        ),
      retrieve: (id, options) =>
        call(
          (client) => Effect.map(client.paymentIntents.retrieve(id, effectOptions(options)), toJson),
          options?.signal
        ),
      list: (params, options) =>
        call(
          (client) =>
            Effect.map(client.paymentIntents.list(params, effectOptions(options)), (page) => page.map(toJson)),
          options?.signal
        ),
      listAll: (params, options) =>
        (async function* () {
          if (isClosed()) throw new Error("Flex: this client is closed")
          const signal = options?.signal
          if (signal?.aborted) throw aborted(signal)
          let stream: Stream.Stream<PaymentIntent.Json, unknown, FlexClient.FlexClient> = Stream.unwrap(
            Effect.map(FlexClient.FlexClient, (client) => client.paymentIntents.listAll(params, effectOptions(options)))
          ).pipe(Stream.map(toJson))
          if (signal !== undefined) {
            // An abort fails the stream with the signal's reason, which the loop then rejects with.
            stream = Stream.interruptWhen(
              stream,
              Effect.async<never, unknown>((resume) => {
                const onAbort = () => resume(Effect.fail(aborted(signal)))
                signal.addEventListener("abort", onAbort, { once: true })
                return Effect.sync(() => signal.removeEventListener("abort", onAbort))
              })
            )
          }
          // The iterable rejects with the failure itself (`Cause.squash` of a failure is the error).
          yield* Stream.toAsyncIterableRuntime(stream, await runtime.runtime())
        })()
    }
  }

  /**
   * Releases the client. Calls made afterwards reject; calling it again does nothing.
   *
   * @since 0.1.0
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#runtime.dispose()
  }
}

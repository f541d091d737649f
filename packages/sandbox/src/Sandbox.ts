/**
 * A stateful local Flex API on loopback, with deterministic fault injection, for tests, demos and
 * benchmarks.
 *
 * `start` listens (on `127.0.0.1` and a free port by default) for as long as its scope is open and
 * gives a {@link SandboxHandle}: the base URL, a key it accepts, and the admin functions (create
 * intents, read the call log and the state, change the fault profile, reset). `layer` provides the same
 * handle as the {@link Sandbox} service. The admin HTTP API under `/_sandbox` maps one-to-one onto the
 * same state, for tools that run the sandbox as a process (`flex-sandbox`).
 *
 * @example
 * ```ts
 * import { Sandbox } from "@flex/sandbox"
 * import { Effect } from "effect"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const sandbox = yield* Sandbox.start({ seed: 7 })
 *     const [intent] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 5000 }])
 *     // … call `${sandbox.url}/v1/payment_intents/${intent.payment_intent_id}/cancel` with sandbox.apiKey
 *     return yield* sandbox.released(intent.payment_intent_id) // Option.some(5000) once canceled
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Ids from "@flex/domain/Ids"
import * as Money from "@flex/domain/Money"
import * as PaymentIntent from "@flex/domain/PaymentIntent"
import type * as PaymentIntentStatus from "@flex/domain/PaymentIntentStatus"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Call from "./Call.js"
import * as FaultProfile from "./FaultProfile.js"
import { Engine } from "./internal/server.js"
import * as Webhook from "./Webhook.js"

/**
 * Why the sandbox could not start or could not do what was asked.
 *
 * @category errors
 * @since 0.1.0
 */
export class SandboxError extends Schema.TaggedError<SandboxError>()("SandboxError", {
  reason: Schema.Literal(
    "InvalidOptions",
    "ListenFailed",
    "InvalidIntent",
    "InvalidFaultProfile",
    "InvalidWebhook",
    "UnknownEvent",
    "InvalidTransition"
  ),
  message: Schema.String
}) {}

/**
 * How to start a sandbox. Everything is optional.
 *
 * @category models
 * @since 0.1.0
 */
export interface SandboxOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 0: a free port, see {@link SandboxHandle.url}. */
  readonly port?: number | undefined
  /** Seeds every generated value and the fault sequence. Default 1. */
  readonly seed?: number | undefined
  /** How many payment intents to seed, in a mix of statuses. Default 0. */
  readonly intents?: number | undefined
  /** A fault profile or a preset name. Default `"none"`. */
  readonly faults?: FaultProfile.Input | undefined
  /** A token-bucket rate limit in requests per second; overrides the profile's `rate_limit`. */
  readonly rateLimit?: number | undefined
  /** Accept only this key. By default any `fsk_test_…` key is accepted. */
  readonly apiKey?: string | undefined
  /** How webhook deliveries are retried; default {@link Webhook.defaultRetry} (5 attempts from 100 ms). */
  readonly webhooks?: Webhook.RetryOptions | undefined
}

/**
 * What to create: any field of a payment intent's wire form. `status` (default `requires_capture`),
 * `amount`, `capture_method`, `customer` (the ID of a seeded customer, expanded in the result) and
 * `created_at` shape the generated intent so its other values agree with them; every other field given
 * replaces the generated one as is. The result must be a valid `@flex/domain` payment intent.
 *
 * @category models
 * @since 0.1.0
 */
export interface IntentSpec {
  readonly status?: PaymentIntentStatus.Status
  readonly amount?: number
  readonly capture_method?: PaymentIntent.CaptureMethod
  readonly customer?: string | Readonly<Record<string, unknown>>
  readonly payment_intent_id?: string
  readonly created_at?: string
  readonly [field: string]: unknown
}

/**
 * The authorized amount a cancel released (`amount_capturable` before the cancel; 0 for an intent that
 * held nothing).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Release = Schema.Struct({
  payment_intent_id: Ids.PaymentIntentId,
  amount: Money.Amount,
  /** When the cancel happened, ISO 8601. */
  at: Schema.String
}).annotations({ identifier: "Release" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Release extends Schema.Schema.Type<typeof Release> {}

/**
 * The body of `GET /_sandbox/releases`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ReleasesEnvelope = Schema.Struct({ releases: Schema.Array(Release), total: Money.Amount }).annotations({
  identifier: "ReleasesEnvelope"
})

/**
 * Where a client finds a sandbox: its base URL and a key it accepts, as plain strings, in the shape
 * `@flex/http` takes them (`new Flex(sandbox.clientOptions)` from `@flex/http/promise`, or
 * `FlexClient.layerSandbox(sandbox.clientOptions)`).
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientOptions {
  /** The sandbox's URL, e.g. `http://127.0.0.1:52731`. */
  readonly baseUrl: string
  /** A key the sandbox accepts. */
  readonly apiKey: string
}

/**
 * A running sandbox.
 *
 * @category models
 * @since 0.1.0
 */
export interface SandboxHandle {
  /** The base URL, e.g. `http://127.0.0.1:52731`; the API is under `/v1`, the admin API under `/_sandbox`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** A key the sandbox accepts: the pinned `apiKey`, else `fsk_test_sandbox`. */
  readonly apiKey: string
  /** `{ baseUrl, apiKey }`, what a `@flex/http` client needs to call this sandbox. */
  readonly clientOptions: ClientOptions
  /** Creates intents (all or none) and returns them decoded; newest last. */
  readonly createIntents: (
    specs: ReadonlyArray<IntentSpec>
  ) => Effect.Effect<ReadonlyArray<PaymentIntent.PaymentIntent>, SandboxError>
  /** One intent as it is now, whatever the faults. */
  readonly intent: (id: string) => Effect.Effect<Option.Option<PaymentIntent.PaymentIntent>>
  /** Every intent, newest first. */
  readonly intents: Effect.Effect<ReadonlyArray<PaymentIntent.PaymentIntent>>
  /** The public API's requests, in arrival order. */
  readonly calls: Effect.Effect<ReadonlyArray<Call.Call>>
  readonly faults: Effect.Effect<FaultProfile.FaultProfile>
  /** Replaces the fault profile; the fault sequence carries on. */
  readonly setFaults: (profile: FaultProfile.Input) => Effect.Effect<void, SandboxError>
  /** What the sandbox's cancel of this intent released; none if the sandbox never canceled it. */
  readonly released: (id: string) => Effect.Effect<Option.Option<Money.Amount>>
  /** Every cancel's release, in order. */
  readonly releases: Effect.Effect<ReadonlyArray<Release>>
  /**
   * From now on the public API receives and logs requests but answers none of them until
   * {@link release}: a test can stop the world with calls provably on the wire.
   */
  readonly hold: Effect.Effect<void>
  /** Answers every held request (each after its latency, in arrival order) and stops holding. */
  readonly release: Effect.Effect<void>
  /** How many requests are held now. */
  readonly held: Effect.Effect<number>
  /** Back to the start: seeded intents, initial faults and fault sequence, empty call log, no keys. */
  readonly reset: Effect.Effect<void>
  /**
   * The admin transition to `succeeded`: `amount_received` becomes the amount, nothing stays capturable,
   * an expanded invoice is paid; emits `payment_intent.succeeded`, then `invoice.payment_succeeded`.
   * Fails with `InvalidIntent` for an unknown ID, `InvalidTransition` from `succeeded` or `canceled`.
   */
  readonly succeedIntent: (id: string) => Effect.Effect<PaymentIntent.PaymentIntent, SandboxError>
  /**
   * Registers a webhook endpoint (as `POST /v1/webhooks` does): its events are `POST`ed to `url`, signed
   * with the returned `signing_secret`. `events` omitted, empty or `["*"]`: every event. Fails with
   * `InvalidWebhook` for a URL that is not `http(s)://` or an unknown event type.
   */
  readonly registerWebhook: (input: Webhook.EndpointInput) => Effect.Effect<Webhook.Endpoint, SandboxError>
  /** The registered endpoints, in registration order. */
  readonly webhooks: Effect.Effect<ReadonlyArray<Webhook.Endpoint>>
  /** Every event emitted (only while an endpoint was registered), in order, as delivered. */
  readonly events: Effect.Effect<ReadonlyArray<Webhook.Event>>
  /** Every delivery attempt, in the order they ended. */
  readonly deliveries: Effect.Effect<ReadonlyArray<Webhook.Delivery>>
  /**
   * Sends an event again (same `event_id`, same body, a fresh timestamp and signature) to every
   * endpoint now subscribed to it, with the full retry schedule; gives their IDs. Fails with
   * `UnknownEvent` for an ID the sandbox never emitted.
   */
  readonly redeliver: (eventId: string) => Effect.Effect<ReadonlyArray<string>, SandboxError>
}

/**
 * The sandbox as a service, provided by {@link layer}.
 *
 * @category tags
 * @since 0.1.0
 */
export class Sandbox extends Context.Tag("@flex/sandbox/Sandbox")<Sandbox, SandboxHandle>() {}

/**
 * The key the handle reports when none is pinned.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultApiKey = "fsk_test_sandbox"

const invalid = (message: string) => new SandboxError({ reason: "InvalidOptions", message })

const decodeIntent = Schema.decodeUnknownSync(PaymentIntent.PaymentIntent)
const decodeRelease = Schema.decodeUnknownSync(Release)

const validate = (options: SandboxOptions) =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    const port = options.port ?? 0
    const seed = options.seed ?? 1
    const intents = options.intents ?? 0
    if (host === "") return yield* invalid("host must not be empty")
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return yield* invalid(`port must be an integer from 0 to 65535, got ${port}`)
    }
    if (!Number.isSafeInteger(seed)) return yield* invalid(`seed must be an integer, got ${seed}`)
    if (!Number.isSafeInteger(intents) || intents < 0 || intents > 1_000_000) {
      return yield* invalid(`intents must be an integer from 0 to 1000000, got ${intents}`)
    }
    if (options.rateLimit !== undefined && !(Number.isFinite(options.rateLimit) && options.rateLimit > 0)) {
      return yield* invalid(`rateLimit must be a positive number of requests per second, got ${options.rateLimit}`)
    }
    // The key itself never goes into a message.
    if (options.apiKey !== undefined && (options.apiKey === "" || /\s/.test(options.apiKey))) {
      return yield* invalid("apiKey must be a non-empty string without spaces")
    }
    const retry = { ...Webhook.defaultRetry }
    for (const field of ["attempts", "retryDelayMs", "timeoutMs"] as const) {
      const value = options.webhooks?.[field]
      if (value === undefined) continue
      const min = field === "retryDelayMs" ? 0 : 1
      if (!Number.isSafeInteger(value) || value < min) {
        return yield* invalid(`webhooks.${field} must be an integer of at least ${min}, got ${value}`)
      }
      retry[field] = value
    }
    const decoded = FaultProfile.decode(options.faults ?? "none")
    if (Either.isLeft(decoded)) return yield* invalid(`faults: ${decoded.left}`)
    const profile: FaultProfile.FaultProfile =
      options.rateLimit === undefined
        ? decoded.right
        : { ...decoded.right, rate_limit: { requests_per_second: options.rateLimit } }
    return { host, port, config: { seed, intents, profile, apiKey: options.apiKey, webhooks: retry } }
  })

/**
 * Starts a sandbox that listens until the scope closes; closing it also drops hanging connections.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (options: SandboxOptions = {}): Effect.Effect<SandboxHandle, SandboxError, Scope.Scope> =>
  Effect.gen(function* () {
    const { config, host, port: requested } = yield* validate(options)
    const engine = new Engine(config)
    const port = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => engine.listen(host, requested),
        catch: (error) =>
          new SandboxError({
            reason: "ListenFailed",
            message: `Could not listen on ${host}:${requested}: ${error instanceof Error ? error.message : String(error)}`
          })
      }),
      () => Effect.promise(() => engine.close())
    )
    const store = engine.store
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
    const apiKey = config.apiKey ?? defaultApiKey
    const handle: SandboxHandle = {
      url,
      host,
      port,
      apiKey,
      clientOptions: { baseUrl: url, apiKey },
      createIntents: (specs) =>
        Effect.suspend(() => {
          const created = store.create(specs)
          return Either.isLeft(created)
            ? Effect.fail(new SandboxError({ reason: "InvalidIntent", message: created.left }))
            : Effect.succeed(created.right.map((wire) => decodeIntent(wire)))
        }),
      intent: (id) => Effect.sync(() => Option.map(Option.fromNullable(store.find(id)), decodeIntent)),
      intents: Effect.sync(() => store.snapshot().map((wire) => decodeIntent(wire))),
      calls: Effect.sync(() => engine.callLog()),
      faults: Effect.sync(() => engine.faults),
      setFaults: (profile) =>
        Effect.suspend(() => {
          const decoded = FaultProfile.decode(profile)
          if (Either.isLeft(decoded)) {
            return Effect.fail(new SandboxError({ reason: "InvalidFaultProfile", message: decoded.left }))
          }
          engine.setFaults(decoded.right)
          return Effect.void
        }),
      released: (id) =>
        Effect.sync(() =>
          Option.map(Option.fromNullable(store.released(id)), (release) => Money.cents(release.amount))
        ),
      releases: Effect.sync(() => store.releases().map((release) => decodeRelease(release))),
      hold: Effect.sync(() => engine.hold()),
      release: Effect.sync(() => engine.release()),
      held: Effect.sync(() => engine.held),
      reset: Effect.sync(() => engine.reset()),
      succeedIntent: (id) =>
        Effect.suspend(() => {
          const reply = store.succeed(id)
          const body = JSON.parse(reply.body)
          if (reply.status === 200) return Effect.succeed(decodeIntent(body.payment_intent))
          const reason = reply.status === 404 ? "InvalidIntent" : "InvalidTransition"
          return Effect.fail(new SandboxError({ reason, message: String(body.error?.message) }))
        }),
      registerWebhook: (input) =>
        Effect.suspend(() => {
          const registered = engine.webhooks.register({ webhook: input })
          return typeof registered === "string"
            ? Effect.fail(new SandboxError({ reason: "InvalidWebhook", message: registered }))
            : Effect.succeed(registered)
        }),
      webhooks: Effect.sync(() => engine.webhooks.list()),
      events: Effect.sync(() => engine.webhooks.eventLog()),
      deliveries: Effect.sync(() => engine.webhooks.deliveries()),
      redeliver: (eventId) =>
        Effect.suspend(() => {
          const sent = engine.webhooks.redeliver(eventId)
          return sent === undefined
            ? Effect.fail(
                new SandboxError({ reason: "UnknownEvent", message: `No such event: '${eventId.slice(0, 64)}'` })
              )
            : Effect.succeed(sent)
        })
    }
    return handle
  })

/**
 * The sandbox as a layer: started when the layer is built, stopped when it is released.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: SandboxOptions): Layer.Layer<Sandbox, SandboxError> =>
  Layer.scoped(Sandbox, start(options))

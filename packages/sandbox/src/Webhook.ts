/**
 * The sandbox's webhooks: the endpoints registered with it, the events it emitted, and the log of its
 * delivery attempts, as the admin API serves them and the handle returns them.
 *
 * The sandbox emits `payment_intent.created` when an intent is created through the admin API or the
 * handle (never for the seeded ones), `payment_intent.succeeded` (then `invoice.payment_succeeded` when
 * the intent's invoice is expanded) when an admin transition succeeds an intent, and
 * `sandbox.payment_intent.canceled` when the public API cancels one: Flex documents no cancel event, so
 * that one is the sandbox's own, and its name says so. Each delivery is a `POST` of the event's JSON,
 * signed the Svix way (`svix-id` = `event_id`, `svix-timestamp`, `svix-signature: v1,…`), retried with
 * doubling delays until the receiver answers 2xx. While no endpoint is registered, nothing is emitted
 * or recorded.
 *
 * @since 0.1.0
 */
import * as WebhookEvent from "@flex/domain/WebhookEvent"
import * as Schema from "effect/Schema"

/**
 * The event types Flex documents (its list is not exhaustive), as `@flex/domain`'s `WebhookEvent` knows
 * them: what an endpoint may subscribe to, with `*` for everything. The sandbox emits only those of {@link emittedEventTypes}.
 *
 * @category constants
 * @since 0.1.0
 */
export const flexEventTypes: ReadonlyArray<string> = [...WebhookEvent.knownEventTypes].sort()

/**
 * The sandbox's own event types, for changes Flex sends no event for. Their names start with
 * `sandbox.`, so a receiver can tell them from Flex's.
 *
 * @category constants
 * @since 0.1.0
 */
export const sandboxEventTypes: ReadonlyArray<string> = ["sandbox.payment_intent.canceled"]

/**
 * What the sandbox emits, and on which change.
 *
 * @category constants
 * @since 0.1.0
 */
export const emittedEventTypes = {
  /** An intent created through the admin API or `createIntents` (seeded intents emit nothing). */
  created: "payment_intent.created",
  /** An intent moved to `succeeded` by the admin transition (`succeedIntent`). */
  succeeded: "payment_intent.succeeded",
  /** Sent after `succeeded` when the intent's invoice is expanded: the invoice, now `paid`. */
  invoicePaid: "invoice.payment_succeeded",
  /** Sandbox-only: an intent canceled through the public API. */
  canceled: "sandbox.payment_intent.canceled"
} as const

/**
 * What to register: the URL to `POST` events to and the event types to send (omitted, empty or `["*"]`:
 * every event).
 *
 * @category models
 * @since 0.1.0
 */
export interface EndpointInput {
  readonly url: string
  readonly events?: ReadonlyArray<string> | undefined
}

/**
 * A registered endpoint. `signing_secret` (`fwhsec_` + base64) is the key its deliveries are signed
 * with; it comes from the sandbox's seed, so the same seed gives the same secrets in the same order.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Endpoint = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  signing_secret: Schema.String
}).annotations({ identifier: "Endpoint" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Endpoint extends Schema.Schema.Type<typeof Endpoint> {}

/**
 * An endpoint in Flex's wire form, as `POST /v1/webhooks` and the admin API answer it.
 *
 * @category schemas
 * @since 0.1.0
 */
export const EndpointWire = Schema.Struct({
  webhook_id: Schema.String,
  url: Schema.String,
  signing_secret: Schema.String,
  test_mode: Schema.Boolean,
  events: Schema.Array(Schema.String)
}).annotations({ identifier: "EndpointWire" })

/**
 * The body of `POST /v1/webhooks`, `GET`, `POST` and `DELETE /v1/webhooks/{id}`, and
 * `POST /_sandbox/webhooks`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const EndpointEnvelope = Schema.Struct({ webhook: EndpointWire }).annotations({
  identifier: "EndpointEnvelope"
})

/**
 * An event as it is delivered: Flex's envelope, with `object` wrapping the entity under its name
 * (`{"payment_intent": {…}}`, `{"invoice": {…}}`). `event_dt` is in Unix seconds; `event_id`
 * (`evt_` + ULID, the sandbox's own format) is the `svix-id` of every delivery of the event.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Event = Schema.Struct({
  event_dt: Schema.Int,
  event_id: Schema.String,
  event_type: Schema.String,
  object: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}).annotations({ identifier: "Event" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Event extends Schema.Schema.Type<typeof Event> {}

/**
 * The body of `GET /_sandbox/events`: every event emitted, in order.
 *
 * @category schemas
 * @since 0.1.0
 */
export const EventsEnvelope = Schema.Struct({ events: Schema.Array(Event) }).annotations({
  identifier: "EventsEnvelope"
})

/**
 * What became of one delivery attempt: `delivered` (a 2xx answer), `retrying` (another attempt is
 * scheduled) or `failed` (the last attempt failed too).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Outcome = Schema.Literal("delivered", "retrying", "failed")

/**
 * @category models
 * @since 0.1.0
 */
export type Outcome = Schema.Schema.Type<typeof Outcome>

/**
 * One delivery attempt of one event to one endpoint, recorded when it ended.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Delivery = Schema.Struct({
  event_id: Schema.String,
  event_type: Schema.String,
  webhook_id: Schema.String,
  /** The URL posted to (the endpoint's URL at the time). */
  url: Schema.String,
  /** 1 for the first attempt; a redelivery starts again at 1. */
  attempt: Schema.Int,
  /** True for the attempts of a `redeliver`. */
  redelivery: Schema.Boolean,
  /** The receiver's HTTP status, or `null` when it gave no answer. */
  status: Schema.NullOr(Schema.Int),
  /** Why there was no answer (`ECONNREFUSED`, `ECONNRESET`, `timeout`), else `null`. */
  error: Schema.NullOr(Schema.String),
  outcome: Outcome,
  /** When the attempt ended, ISO 8601. */
  at: Schema.String
}).annotations({ identifier: "Delivery" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Delivery extends Schema.Schema.Type<typeof Delivery> {}

/**
 * The body of `GET /_sandbox/deliveries`: every attempt, in the order they ended.
 *
 * @category schemas
 * @since 0.1.0
 */
export const DeliveriesEnvelope = Schema.Struct({ deliveries: Schema.Array(Delivery) }).annotations({
  identifier: "DeliveriesEnvelope"
})

/**
 * How deliveries are retried. A test sets small values; the defaults suit a demo.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryOptions {
  /** Attempts per event and endpoint, the first included. Default 5. */
  readonly attempts?: number | undefined
  /** The delay before the first retry, in milliseconds; each next one doubles. Default 100. */
  readonly retryDelayMs?: number | undefined
  /** How long one attempt waits for an answer, in milliseconds. Default 5000. */
  readonly timeoutMs?: number | undefined
}

/**
 * The default retry schedule: 5 attempts, 100 ms before the first retry then 200, 400, 800; 5 s per
 * attempt.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultRetry: Required<{ readonly [K in keyof RetryOptions]: number }> = {
  attempts: 5,
  retryDelayMs: 100,
  timeoutMs: 5000
}
